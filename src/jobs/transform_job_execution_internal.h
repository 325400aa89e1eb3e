// Internals of transform_job_execution.cc and transform_job_pipeline.cc: one job's
// Execution — its instances' lifecycle (start, health, stop: transform_job_execution.cc) and
// the pipeline that moves the input objects through them (read and batch, send, assemble,
// write: transform_job_pipeline.cc). Not a public header: only those two files include it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "hosting/instance_client.h"
#include "jobs/transform_job_data.h"
#include "jobs/transform_job_execution.h"

namespace mercato::jobs::transform::internal {

constexpr int kMaxConcurrencyPerInstance = 64;
// How often the pipeline's waits look at the abort flag (Abort has its own condition).
constexpr std::chrono::milliseconds kWakeUp{50};
// Objects read side by side: the first two instances need not wait for each other's object.
constexpr size_t kReaders = 2;
constexpr int kQuickPingRounds = 100;
constexpr absl::Duration kQuickPingInterval = absl::Milliseconds(10);
constexpr absl::Duration kQuickDialTimeout = absl::Milliseconds(100);

struct Instance {
  std::string id;
  std::vector<int> fds;  // one keep-alive connection per concurrent slot; -1 = none
  size_t in_flight = 0;  // requests being sent; guarded by Execution::mu_
};

struct InputObject {
  std::string bucket;
  std::string key;
  std::string out_bucket;
  std::string out_key;
};

std::string S3Url(std::string_view bucket, std::string_view key);
const char* StrategyEnv(BatchStrategy s);
// Lists the job's input objects and where each one's output goes.
absl::StatusOr<std::vector<InputObject>> ListInputs(const ExecutionContext& ctx,
                                                    const JobInput& job);

class Execution {
 public:
  Execution(const ExecutionContext& ctx, const JobInput& job, Abort& abort)
      : ctx_(ctx), job_(job), spec_(job.spec), abort_(abort) {}
  ~Execution() { StopInstances(); }

  absl::Status Run(const std::function<void(const BatchParameters&)>& on_ready);

 private:
  absl::Status StartInstances();
  absl::Status WaitHealthy();
  Json ExecutionParameters();
  void StopInstances();
  std::string LastLogLines(const std::string& id);
  // One input object on its way through: read and batched by ReadLoop, its batches answered
  // by any instance's slots, assembled and written by WriteLoop. The queues and the counters
  // are guarded by mu_; a batch's payload and response belong to the slot sending it.
  struct Work {
    size_t object = 0;  // index into objects_
    std::string data;   // the object's bytes, while batches view them or JoinSource needs them
    std::vector<std::string_view> originals;  // its records, views into `data` (JoinSource)
    std::vector<Batch> batches;
    std::vector<std::string> responses;
    std::string content_type;  // of the first batch's answer
    size_t next_batch = 0;     // the next one to send
    size_t answered = 0;
  };
  absl::Status Named(size_t object, const absl::Status& s) const;
  void ReadLoop();
  absl::StatusOr<std::shared_ptr<Work>> Prepare(size_t index);
  void SlotLoop(Instance& inst, size_t slot);
  void WriteLoop();
  absl::Status Finish(Work& work);
  absl::StatusOr<hosting::InstanceResponse> Invoke(Instance& inst, size_t slot,
                                                   std::string_view payload);
  absl::StatusOr<std::string> Assemble(const std::vector<Batch>& batches,
                                       const std::vector<std::string>& responses,
                                       const std::vector<std::string_view>& originals,
                                       const std::string& content_type);
  void Fail(absl::Status s);

  const ExecutionContext& ctx_;
  const JobInput& job_;
  const TransformJobSpec& spec_;
  Abort& abort_;
  std::string dir_;
  std::vector<std::unique_ptr<Instance>> instances_;
  BatchParameters params_;
  BatchParameters batching_;  // what the readers cut batches by; set before they start
  bool healthy_ = false;      // every instance passed /ping
  std::vector<InputObject> objects_;
  size_t slots_ = 0;  // request slots over all instances; guarded by mu_ once readers run
  std::mutex mu_;
  std::condition_variable cv_;                    // any change below
  absl::Status first_error_;                      // guarded by mu_
  std::deque<std::shared_ptr<Work>> sending_;     // with batches not yet sent; guarded by mu_
  std::deque<std::shared_ptr<Work>> answered_;    // every batch answered; guarded by mu_
  std::map<size_t, std::shared_ptr<Work>> read_;  // read out of order; guarded by mu_
  size_t next_queued_ = 0;     // the next object to queue for sending; guarded by mu_
  size_t next_read_ = 0;       // the next object to read; guarded by mu_
  size_t live_ = 0;            // objects being read or not yet written; guarded by mu_
  bool running_ = false;       // the instances are up and the slots run; guarded by mu_
  bool stop_reading_ = false;  // the job ends before it ran; guarded by mu_
  absl::Status read_error_;    // a read failure while !running_; guarded by mu_
  size_t readers_done_ = 0;    // ReadLoops that have ended; guarded by mu_
};

}  // namespace mercato::jobs::transform::internal
