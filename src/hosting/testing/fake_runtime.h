// FakeRuntime: a working in-process ContainerRuntime for hosting tests. Each started instance
// is an HTTP responder on its own 127.0.0.1 port (a thread per connection, Beast for
// parsing); Dial() returns a TCP connection to it. What an instance does is decided by a
// behaviour function of its spec, so tests script healthy, failing, slow and crashing
// containers. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/container_runtime.h"

namespace mercato::hosting::testing {

struct FakeBehavior {
  bool start_fails = false;    // Start() returns ResourceExhausted
  bool exit_at_start = false;  // the container exits at once with exit_code
  int exit_code = 1;
  bool ping_ok = true;  // GET /ping answers 200 (else 500)
  int invocation_status = 200;
  std::string content_type = "text/csv";
  // Body of /invocations answers; by default echoes "<instance-id>:<request body>".
  std::function<std::string(const std::string& body)> respond;
  int delay_ms = 0;  // before answering /invocations
};

class FakeRuntime final : public sandbox::ContainerRuntime {
 public:
  using BehaviorFn = std::function<FakeBehavior(const sandbox::InstanceSpec&)>;
  explicit FakeRuntime(BehaviorFn behavior = nullptr);
  ~FakeRuntime() override;

  absl::StatusOr<sandbox::InstanceId> Start(const sandbox::InstanceSpec& spec) override;
  absl::Status Stop(const sandbox::InstanceId& id, absl::Duration grace) override;
  absl::StatusOr<sandbox::InstanceStatus> Wait(const sandbox::InstanceId& id,
                                               absl::Duration timeout) override;
  absl::StatusOr<sandbox::InstanceStatus> Status(const sandbox::InstanceId& id) override;
  absl::StatusOr<int> Dial(const sandbox::InstanceId& id, int port,
                           absl::Duration timeout) override;
  absl::StatusOr<sandbox::LogReaderPtr> Logs(const sandbox::InstanceId& id) override;
  absl::Status Forget(const sandbox::InstanceId& id) override;

  void set_behavior(BehaviorFn fn);
  // Makes a running instance exit (as a crash) with `code`.
  void Crash(const sandbox::InstanceId& id, int code = 137);
  std::vector<sandbox::InstanceId> Running() const;
  std::vector<sandbox::InstanceSpec> Started() const;  // every spec ever started
  // Requests each instance served on /invocations.
  int Served(const sandbox::InstanceId& id) const;

 private:
  struct Instance;
  void Serve(std::shared_ptr<Instance> inst);
  void HandleConnection(std::shared_ptr<Instance> inst, int fd);
  void Shut(Instance& inst, int code, const std::string& reason);

  mutable std::mutex mu_;
  BehaviorFn behavior_;
  std::map<sandbox::InstanceId, std::shared_ptr<Instance>> instances_;
  std::vector<sandbox::InstanceSpec> started_;
};

}  // namespace mercato::hosting::testing
