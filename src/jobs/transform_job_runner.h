// TransformJobRunner: SageMaker batch transform jobs — records (tables transform_jobs and
// transform_job_instances) and their execution on sandbox instances.
//
// CreateTransformJob validates the request (transform_job_spec.h) and that the model exists
// in the account (HostingService), snapshots the model's container and stores the job
// InProgress; a thread per job then
//   1. lists the input objects (S3Prefix, or the keys a ManifestFile names),
//   2. starts TransformResources.InstanceCount instances of the model's image with `serve`,
//      SAGEMAKER_BATCH=true and the batch variables, model data read-only at /opt/ml/model,
//      and waits until each answers GET /ping,
//   3. reads GET /execution-parameters (optional); values given in the request win over the
//      container's, which win over the defaults (6 MB, 1, SingleRecord),
//   4. spreads the objects over the instances; each object is decompressed (Gzip), split,
//      filtered, batched and POSTed to /invocations with up to MaxConcurrentTransforms
//      requests in flight per instance (ModelClientConfig timeout and retries; 4xx answers
//      are not retried), and its outputs are assembled in input order into
//      <S3OutputPath>/<relative key>.out,
//   5. ends Completed, or Failed with a FailureReason naming the object and the container's
//      error (the first failure aborts the rest), or Stopped after StopTransformJob.
// Instances are stopped at the end in every case. Jobs found InProgress or Stopping when the
// runner starts (a previous process died) are ended Failed / Stopped with a reason.
//
// Objects are read and written through TransformObjects (the server adapts its S3 object
// store; tests use an in-memory one). Thread-safe; borrows everything it is given, which must
// outlive it. Shutdown() (or the destructor) aborts running jobs and joins their threads.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "hosting/hosting_service.h"
#include "hosting/image_resolver.h"
#include "hosting/model_data.h"
#include "sandbox/container_runtime.h"
#include "sandbox/instance_types.h"
#include "store/metadata_store.h"

namespace mercato::jobs {

// The objects a transform job reads and writes, on behalf of the job's account.
class TransformObjects {
 public:
  virtual ~TransformObjects() = default;
  // Keys under `prefix` in `bucket`, in key order. NotFound for a bucket the account cannot
  // read.
  virtual absl::StatusOr<std::vector<std::string>> List(std::string_view account,
                                                        std::string_view bucket,
                                                        std::string_view prefix) = 0;
  // The whole object; ResourceExhausted beyond `max_bytes`, NotFound when absent.
  virtual absl::StatusOr<std::string> Read(std::string_view account, std::string_view bucket,
                                           std::string_view key, uint64_t max_bytes) = 0;
  virtual absl::Status Write(std::string_view account, std::string_view bucket,
                             std::string_view key, std::string_view content_type,
                             std::string_view data) = 0;
};

struct TransformRunnerOptions {
  std::string jobs_dir;  // per-job model data and instance logs; required
  std::string region = "local";
  sandbox::InstanceTypes instance_types = sandbox::InstanceTypes::Default();
  absl::Duration startup_timeout = absl::Seconds(600);  // until every instance pings
  absl::Duration ping_timeout = absl::Seconds(2);
  absl::Duration poll_interval = absl::Milliseconds(50);   // between ping rounds
  absl::Duration retry_backoff = absl::Milliseconds(200);  // before an invocation retry
  absl::Duration stop_grace = absl::Seconds(30);
  int container_port = 8080;
  uint64_t max_object_bytes = 1ull << 30;      // an input object is processed in memory
  uint64_t max_response_bytes = 256ull << 20;  // per /invocations answer
};

class TransformJobRunner {
 public:
  TransformJobRunner(MetadataStore& store, TransformObjects& objects,
                     hosting::HostingService& hosting, hosting::ImageResolver& resolver,
                     hosting::ModelDataFetcher& fetcher, sandbox::ContainerRuntime& runtime,
                     const Clock& clock, TransformRunnerOptions options);
  ~TransformJobRunner();

  // Ends the jobs a previous process left running. Call once before serving.
  absl::Status Recover();
  // Aborts running jobs (they end Failed) and joins their threads. Idempotent.
  void Shutdown();

  // SageMaker's actions, in its JSON shapes (see the API facade).
  absl::StatusOr<Json> Create(std::string_view account, const Json& in);
  absl::StatusOr<Json> Describe(std::string_view account, const Json& in);
  absl::StatusOr<Json> List(std::string_view account, const Json& in);
  absl::StatusOr<Json> Stop(std::string_view account, const Json& in);

  // Blocks until the job's thread has finished or `timeout` passes (tests).
  bool WaitIdle(std::string_view account, std::string_view name, absl::Duration timeout);

  struct Job;  // one running job (transform_job_runner.cc)

 private:
  void Run(std::shared_ptr<Job> job);
  void ReapFinished();  // joins threads of finished jobs; mu_ held

  MetadataStore& store_;
  TransformObjects& objects_;
  hosting::HostingService& hosting_;
  hosting::ImageResolver& resolver_;
  hosting::ModelDataFetcher& fetcher_;
  sandbox::ContainerRuntime& runtime_;
  const Clock& clock_;
  const TransformRunnerOptions options_;

  std::mutex mu_;
  std::condition_variable idle_cv_;
  bool shutting_down_ = false;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Job>> jobs_;
};

}  // namespace mercato::jobs
