// EndpointController: makes the running sandbox instances match the endpoints in the store.
//
// A background thread (or ReconcileOnce(), for tests) walks every endpoint record:
//   Creating   start each variant's InitialInstanceCount instances (image from the
//              ImageResolver, model data extracted per instance, `serve` as the argument,
//              model dir mounted read-only at /opt/ml/model); when every instance answers
//              GET /ping with 200 the endpoint becomes InService. If an instance exits or is
//              not healthy within the variant's ContainerStartupHealthCheckTimeoutInSeconds,
//              or cannot start at all, the endpoint becomes Failed with a FailureReason and
//              its instances are stopped.
//   InService  instances that exit are replaced; traffic goes to the healthy ones. After a
//              restart of mercatod, InService endpoints are brought back from their records.
//   Updating   with a pending spec (UpdateEndpoint): blue/green — a new set of instances is
//              started beside the old; once all are healthy traffic moves to them and the old
//              ones stop; if they fail, they are stopped, the old set keeps serving and the
//              endpoint returns to InService with a FailureReason (rollback). Without one
//              (UpdateEndpointWeightsAndCapacities): instances are added or removed in place.
//   Deleting   every instance is stopped, then the record is removed.
// Routing snapshots (routing_table.h) are published after each pass for the
// InvocationRouter, and live figures for DescribeEndpoint (EndpointRuntimeView).
//
// Thread-safety: all public methods are thread-safe. Only one reconcile pass runs at a time.
// Borrows the store, runtime, resolver, fetcher and clock, which must outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "hosting/hosting_service.h"
#include "hosting/image_resolver.h"
#include "hosting/model_data.h"
#include "hosting/routing_table.h"
#include "sandbox/container_runtime.h"
#include "store/metadata_store.h"

namespace mercato::hosting {

struct ControllerOptions {
  std::string instances_dir;                   // per-instance model dirs and logs; required
  absl::Duration interval = absl::Seconds(1);  // between passes when nothing changes
  absl::Duration busy_interval = absl::Milliseconds(50);  // while an endpoint transitions
  absl::Duration ping_timeout = absl::Seconds(2);
  absl::Duration stop_grace = absl::Seconds(30);
  int container_port = 8080;
  // Live instances are pinged this often (besides checking that their process runs).
  absl::Duration liveness_interval = absl::Seconds(10);
  // An instance taken out of rotation (blue/green swap, scale-in, delete) finishes the
  // requests it is serving before it is stopped, for at most this long.
  absl::Duration drain_timeout = absl::Seconds(60);
};

class EndpointController final : public EndpointRuntimeView {
 public:
  EndpointController(MetadataStore& store, sandbox::ContainerRuntime& runtime,
                     ImageResolver& resolver, ModelDataFetcher& fetcher, const Clock& clock,
                     ControllerOptions options);
  ~EndpointController() override;

  // Starts the background thread. Records of instances left by a previous process are
  // closed first.
  void Start();
  // Stops the background thread; running instances are left to the runtime (which stops
  // them when it is destroyed). Idempotent.
  void Stop();
  // Wakes the background thread for an early pass (after an API change).
  void Notify();
  // One pass over every endpoint (the background thread calls this).
  absl::Status ReconcileOnce();

  // The published routing snapshot of an endpoint, or null if none.
  std::shared_ptr<const RouteTable> Routes(std::string_view account_id,
                                           std::string_view endpoint_name) const;
  // Called by the router when an instance failed a request at the connection level.
  void ReportUnreachable(const std::string& instance_id);

  Json VariantRuntime(std::string_view account_id, std::string_view endpoint_name) override;

  // The instances of the deployment in service (or being created): [{"InstanceId",
  // "VariantName", "Healthy", "StartTime"}], plus "Pid" (the host pid of the container's
  // PID 1, while it runs) when `with_pids`; null when the endpoint is unknown here.
  Json Instances(std::string_view account_id, std::string_view endpoint_name, bool with_pids);

 private:
  struct Instance;
  struct Variant;
  struct Deployment;
  struct EndpointState;
  enum class Progress { kPending, kReady, kFailed };

  void Loop();
  void ReconcileEndpoint(const EndpointRecord& e, EndpointState& st);
  std::unique_ptr<Deployment> NewDeployment(const EndpointRecord& e, const Json& spec);
  // Moves a deployment towards its spec; `replace` restarts failed instances instead of
  // failing the deployment. `reason` is set on kFailed.
  Progress Advance(const EndpointRecord& e, Deployment& d, bool replace, std::string* reason);
  absl::Status StartInstance(const EndpointRecord& e, Variant& v);
  // Takes the instance out of rotation, waits (bounded) for its requests in flight, stops it.
  void StopInstance(Instance& inst);
  void Drain(RoutedInstance& inst);
  void StopDeployment(Deployment* d);
  bool Ping(const std::string& id);
  void Publish(const EndpointRecord& e, const std::string& status, const Deployment* d);
  void Unpublish(const std::string& account, const std::string& name);
  std::string ExitReason(const std::string& variant, const std::string& id,
                         const sandbox::InstanceStatus& status);

  MetadataStore& store_;
  sandbox::ContainerRuntime& runtime_;
  ImageResolver& resolver_;
  ModelDataFetcher& fetcher_;
  const Clock& clock_;
  const ControllerOptions options_;

  std::mutex pass_mu_;  // one pass at a time; guards states_
  std::map<std::pair<std::string, std::string>, std::unique_ptr<EndpointState>> states_;

  mutable std::mutex pub_mu_;  // guards routes_, views_, instances_, unreachable_
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const RouteTable>> routes_;
  std::map<std::pair<std::string, std::string>, Json> views_;
  std::map<std::pair<std::string, std::string>, Json> instances_;
  std::set<std::string> unreachable_;

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::atomic<bool> transitioning_{false};  // some endpoint is not settled (last pass)
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace mercato::hosting
