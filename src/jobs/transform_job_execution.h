// Internal to the transform job runner: running one job from its first instance to its last
// output object (steps 1-4 of transform_job_runner.h). Kept apart from the records and the
// API so that each file holds one idea.
// ExecuteTransformJob is called on the job's own thread and runs its own workers (object
// readers, one thread per request slot per instance), all joined before it returns; Abort is
// thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "jobs/transform_job_runner.h"
#include "jobs/transform_job_spec.h"

namespace mercato::jobs::transform {

// A one-way cancellation flag that sleepers can wait on.
class Abort {
 public:
  void Trigger();
  bool triggered() const;
  // Sleeps up to `d`; true if the flag is (or becomes) set.
  bool WaitFor(absl::Duration d);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

struct ExecutionContext {
  MetadataStore& store;
  TransformObjects& objects;
  hosting::ImageResolver& resolver;
  hosting::ModelDataFetcher& fetcher;
  sandbox::ContainerRuntime& runtime;
  const Clock& clock;
  const TransformRunnerOptions& options;
};

struct JobInput {
  std::string account;
  std::string name;
  std::string arn;
  TransformJobSpec spec;
  Json container;  // the model's container: Image, ModelDataUrl, Environment
};

// The batch parameters in force: request values, else the container's, else defaults.
struct BatchParameters {
  int max_concurrent_transforms = kDefaultMaxConcurrentTransforms;
  int max_payload_mb = kDefaultMaxPayloadInMB;
  BatchStrategy strategy = BatchStrategy::kSingleRecord;
};
// Merges GET /execution-parameters' answer (may be null) under the request's values.
BatchParameters ResolveBatchParameters(const TransformJobSpec& spec, const Json& container_params);

// Runs the job. OK when every object was transformed; Cancelled once `abort` is triggered;
// otherwise a status whose message is the job's FailureReason. `on_ready` is called once the
// instances are healthy, with the effective parameters (for the record).
absl::Status ExecuteTransformJob(const ExecutionContext& ctx, const JobInput& job, Abort& abort,
                                 const std::function<void(const BatchParameters&)>& on_ready);

}  // namespace mercato::jobs::transform
