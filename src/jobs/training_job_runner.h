// TrainingJobRunner: SageMaker training jobs — records (tables training_jobs and
// training_job_instances) and their execution on sandbox instances.
//
// CreateTrainingJob validates the request (training_job_spec.h), that the account has the
// TrainingImage (check_image) and owns the S3 buckets it names, and stores the job
// InProgress / Starting. A thread per job then
//   1. resolves the image (ImageResolver: unpacked rootfs + entrypoint),
//   2. Downloading: copies every channel from Mercato's S3 (storage::ObjectStore) to
//      <jobs_dir>/<account>/<name>/input/data/<channel>/ (S3Prefix: every key under the
//      prefix, relative paths kept; ManifestFile: the keys the manifest lists),
//   3. Training: writes each host's /opt/ml/input/config (hyperparameters.json,
//      inputdataconfig.json, resourceconfig.json with current_host algo-i) and starts
//      ResourceConfig.InstanceCount instances with `train` (or ContainerEntrypoint /
//      ContainerArguments) in one network group (hosts algo-1..N). Mounts per host:
//        /opt/ml/input         <job>/input               read-only (data shared by hosts)
//        /opt/ml/input/config  <job>/hosts/algo-i/config read-only
//        /opt/ml/model         <job>/hosts/algo-i/model  writable
//        /opt/ml/output        <job>/hosts/algo-i/output writable
//        /opt/ml/checkpoints   <job>/hosts/algo-i/checkpoints writable (local only)
//      While it runs, MetricDefinitions are applied to algo-1's log lines.
//   4. Uploading: when every host exited 0, algo-1's /opt/ml/model is packed into
//      <S3OutputPath>/<name>/output/model.tar.gz (ModelArtifacts.S3ModelArtifacts), and
//      /opt/ml/output/data, if not empty, into output.tar.gz beside it; the job ends
//      Completed. A host exiting non-zero stops the others and fails the job with
//      FailureReason "AlgorithmError: " + the first characters of that host's
//      /opt/ml/output/failure (or its exit status), at most 1024 characters.
// StopTrainingJob moves the job to Stopping; the instances get SIGTERM, then SIGKILL after
// stop_grace (SageMaker's 120 s); the model written so far is uploaded (best effort) and the
// job ends Stopped. Passing StoppingCondition.MaxRuntimeInSeconds does the same and ends
// Stopped with SecondaryStatus MaxRuntimeExceeded, as SageMaker does.
// SecondaryStatusTransitions record every SecondaryStatus with its start and end time.
//
// Restarts: instances die with mercatod (bwrap --die-with-parent), so Recover() ends jobs
// found InProgress with Failed, FailureReason "mercatod restarted while the job was
// running", and jobs found Stopping with Stopped; no job stays InProgress forever.
// Shutdown() stops running jobs' instances and ends those jobs Failed the same way.
//
// Job directories: the channel data and model/output copies are removed when a job ends;
// logs stay under <job>/logs/<host>/ and are served by Logs().
//
// Thread-safe; borrows everything it is given, which must outlive it.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "hosting/image_resolver.h"
#include "sandbox/container_runtime.h"
#include "sandbox/instance_types.h"
#include "storage/object_store.h"
#include "store/metadata_store.h"

namespace mercato::jobs {

struct TrainingRunnerOptions {
  std::string jobs_dir;  // per-job data and logs; required
  std::string region = "local";
  sandbox::InstanceTypes instance_types = sandbox::InstanceTypes::Default();
  int max_instance_count = 8;  // ResourceLimitExceeded beyond
  // SIGTERM → SIGKILL on StopTrainingJob and MaxRuntimeInSeconds (SageMaker: 120 s).
  absl::Duration stop_grace = absl::Seconds(120);
  // SIGTERM → SIGKILL when mercatod itself stops, and for the other hosts of a failed job.
  absl::Duration abort_grace = absl::Seconds(2);
  absl::Duration poll_interval = absl::Milliseconds(200);
  // Checks at create time that the account can use the TrainingImage (NotFound otherwise);
  // unset: only the job's thread finds out.
  std::function<absl::Status(std::string_view account, std::string_view image)> check_image;
};

// Resolves AlgorithmSpecification.AlgorithmName (the marketplace wiring provides it): checks
// the request against the algorithm's TrainingSpecification and the caller's entitlement,
// and returns the request to run — TrainingImage set (AlgorithmName removed), hyperparameter
// defaults filled in, the algorithm's metric definitions — and the account owning the image.
struct ResolvedAlgorithm {
  Json request;
  std::string image_account;
  std::vector<std::string> product_ids;  // the marketplace products it is used through
};
using AlgorithmResolver =
    std::function<absl::StatusOr<ResolvedAlgorithm>(std::string_view account, const Json& in)>;

struct TrainingLogQuery {
  std::string host = "algo-1";
  int64_t since_line = 0;
  size_t limit = 5000;
};

class TrainingJobRunner {
 public:
  TrainingJobRunner(MetadataStore& store, storage::ObjectStore& objects,
                    hosting::ImageResolver& resolver, sandbox::ContainerRuntime& runtime,
                    const Clock& clock, TrainingRunnerOptions options);
  ~TrainingJobRunner();  // Shutdown()

  // Ends the jobs a previous process left running. Call once before serving.
  absl::Status Recover();
  // Stops running jobs (they end Failed) and joins their threads. Idempotent.
  void Shutdown();

  // SageMaker's actions, in its JSON shapes.
  // Call before serving; without it AlgorithmName is refused.
  void set_algorithm_resolver(AlgorithmResolver fn) { algorithm_resolver_ = std::move(fn); }
  absl::StatusOr<Json> Create(std::string_view account, const Json& in);
  absl::StatusOr<Json> Describe(std::string_view account, const Json& in);
  absl::StatusOr<Json> List(std::string_view account, const Json& in);
  absl::StatusOr<Json> Stop(std::string_view account, const Json& in);

  // A host's log lines from index since_line on: {"TrainingJobName", "Host", "events":
  // [{"timestamp", "stream", "message"}], "next_line", "done"}. NotFound (ResourceNotFound)
  // for a job the account does not have.
  absl::StatusOr<Json> Logs(std::string_view account, std::string_view name,
                            const TrainingLogQuery& query);

  // Blocks until the job's thread has finished or `timeout` passes (tests).
  bool WaitIdle(std::string_view account, std::string_view name, absl::Duration timeout);

  struct Job;  // one running job (training_job_runner_internal.h)

 private:
  void Run(const std::shared_ptr<Job>& job);  // training_job_execution.cc
  void ReapFinished();                        // joins threads of finished jobs; mu_ held
  std::string JobDir(std::string_view account, std::string_view name) const;

  MetadataStore& store_;
  storage::ObjectStore& objects_;
  hosting::ImageResolver& resolver_;
  sandbox::ContainerRuntime& runtime_;
  const Clock& clock_;
  const TrainingRunnerOptions options_;
  AlgorithmResolver algorithm_resolver_;

  std::mutex mu_;
  std::condition_variable idle_cv_;
  bool shutting_down_ = false;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Job>> jobs_;
};

}  // namespace mercato::jobs
