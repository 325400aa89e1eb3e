#include "jobs/transform_job_runner.h"

#include <atomic>
#include <thread>

#include "base/errors.h"
#include "base/logging.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/list_page.h"
#include "jobs/job_threads.h"
#include "jobs/transform_job_execution.h"

namespace mercato::jobs {
using transform::BatchParameters;
using transform::TransformJobSpec;
namespace {

constexpr char kInProgress[] = "InProgress";
constexpr char kCompleted[] = "Completed";
constexpr char kFailed[] = "Failed";
constexpr char kStopping[] = "Stopping";
constexpr char kStopped[] = "Stopped";

constexpr char kColumns[] =
    "name, arn, model_name, status, failure_reason, request, model, effective, created_at, "
    "started_at, ended_at, last_modified";

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

absl::StatusOr<std::string> RequiredName(const Json& in) {
  auto it = in.find("TransformJobName");
  if (it == in.end() || !it->is_string()) {
    return Invalid(
        "1 validation error detected: Value null at 'transformJobName' failed to satisfy "
        "constraint: Member must not be null");
  }
  return it->get<std::string>();
}

Json StrategyName(transform::BatchStrategy s) {
  return s == transform::BatchStrategy::kMultiRecord ? "MultiRecord" : "SingleRecord";
}

// DescribeTransformJob's answer for one row (columns as in kColumns).
Json DescribeRow(const SqlRow& r) {
  Json request = ParseJson(r.Text(5)).value_or(Json::object());
  Json effective = r.IsNull(7) ? Json() : ParseJson(r.Text(7)).value_or(Json());
  Json out = {{"TransformJobName", r.Text(0)},
              {"TransformJobArn", r.Text(1)},
              {"ModelName", r.Text(2)},
              {"TransformJobStatus", r.Text(3)},
              {"CreationTime", Seconds(r.Int(8))}};
  if (!r.Text(4).empty()) out["FailureReason"] = r.Text(4);
  for (const char* k : {"TransformInput", "TransformOutput", "TransformResources", "Environment",
                        "DataCaptureConfig", "ExperimentConfig"}) {
    if (request.contains(k) && !request[k].is_null()) out[k] = request[k];
  }
  if (out.contains("TransformInput")) {
    Json& ti = out["TransformInput"];
    if (!ti.contains("CompressionType")) ti["CompressionType"] = "None";
    if (!ti.contains("SplitType")) ti["SplitType"] = "None";
  }
  Json dp = {{"InputFilter", "$"}, {"OutputFilter", "$"}, {"JoinSource", "None"}};
  if (request.contains("DataProcessing") && request["DataProcessing"].is_object()) {
    dp.update(request["DataProcessing"]);
  }
  out["DataProcessing"] = dp;
  Json mc = {{"InvocationsTimeoutInSeconds", transform::kDefaultInvocationsTimeoutSeconds},
             {"InvocationsMaxRetries", transform::kDefaultInvocationsMaxRetries}};
  if (request.contains("ModelClientConfig") && request["ModelClientConfig"].is_object()) {
    mc.update(request["ModelClientConfig"]);
  }
  out["ModelClientConfig"] = mc;
  for (const char* k : {"MaxConcurrentTransforms", "MaxPayloadInMB", "BatchStrategy"}) {
    // MaxConcurrentTransforms 0 leaves the choice to the container, like leaving it out.
    bool given = request.contains(k) && !request[k].is_null() &&
                 !(std::string_view(k) == "MaxConcurrentTransforms" && request[k] == 0);
    if (given) {
      out[k] = request[k];
    } else if (effective.is_object() && effective.contains(k)) {
      out[k] = effective[k];
    }
  }
  if (!r.IsNull(9)) out["TransformStartTime"] = Seconds(r.Int(9));
  if (!r.IsNull(10)) out["TransformEndTime"] = Seconds(r.Int(10));
  return out;
}

}  // namespace

struct TransformJobRunner::Job {
  std::string account;
  std::string name;
  transform::Abort abort;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> shutdown{false};
  std::thread thread;
  bool finished = false;  // guarded by the runner's mu_
};

TransformJobRunner::TransformJobRunner(MetadataStore& store, TransformObjects& objects,
                                       hosting::HostingService& hosting,
                                       hosting::ImageResolver& resolver,
                                       hosting::ModelDataFetcher& fetcher,
                                       sandbox::ContainerRuntime& runtime, const Clock& clock,
                                       TransformRunnerOptions options)
    : store_(store),
      objects_(objects),
      hosting_(hosting),
      resolver_(resolver),
      fetcher_(fetcher),
      runtime_(runtime),
      clock_(clock),
      options_(std::move(options)) {}

TransformJobRunner::~TransformJobRunner() { Shutdown(); }

absl::Status TransformJobRunner::Recover() {
  int64_t now = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(
      store_
          .Exec("UPDATE transform_jobs SET status = ?, failure_reason = ?, ended_at = ?, "
                "last_modified = ? WHERE status = ?",
                {kFailed,
                 "The transform job was interrupted because mercatod stopped while it was in "
                 "progress; create it again to rerun it",
                 now, now, kInProgress})
          .status());
  RETURN_IF_ERROR(store_
                      .Exec("UPDATE transform_jobs SET status = ?, ended_at = ?, last_modified = "
                            "? WHERE status = ?",
                            {kStopped, now, now, kStopping})
                      .status());
  return store_
      .Exec("UPDATE transform_job_instances SET stopped_at = ? WHERE stopped_at IS NULL", {now})
      .status();
}

void TransformJobRunner::Shutdown() {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [key, job] : jobs_) {
      if (!job->finished) job->shutdown = true;
      job->abort.Trigger();
      jobs.push_back(job);
    }
  }
  for (auto& job : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.clear();
}

void TransformJobRunner::ReapFinished() { ::mercato::jobs::ReapFinishedJobs(jobs_); }

absl::StatusOr<Json> TransformJobRunner::Create(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(TransformJobSpec spec,
                   TransformJobSpec::FromRequest(in, &options_.instance_types));
  ASSIGN_OR_RETURN(Json container, hosting_.ModelContainer(account, spec.model_name));
  RETURN_IF_ERROR(hosting_.CheckContainerUse(account, container));
  RETURN_IF_ERROR(
      hosting::CheckContainerInstanceType(container, "TransformInstanceTypes", spec.instance_type));
  std::string arn = hosting_.Arn(account, "transform-job", spec.name);
  std::lock_guard<std::mutex> lock(mu_);
  ReapFinished();
  if (shutting_down_) return absl::UnavailableError("the server is shutting down");
  int64_t now = absl::ToUnixMicros(clock_.Now());
  auto inserted = store_.Exec(
      "INSERT INTO transform_jobs (account_id, name, arn, model_name, status, failure_reason, "
      "request, model, effective, created_at, started_at, ended_at, last_modified) VALUES "
      "(?, ?, ?, ?, ?, '', ?, ?, NULL, ?, NULL, NULL, ?)",
      {std::string(account), spec.name, arn, spec.model_name, kInProgress, in.dump(),
       container.dump(), now, now});
  if (absl::IsAlreadyExists(inserted.status())) {
    return AwsError(absl::StatusCode::kAlreadyExists, "ResourceInUse",
                    fmt::format("Job name must be unique within an AWS account and region, and a "
                                "job with this name already exists ({})",
                                arn));
  }
  RETURN_IF_ERROR(inserted.status());
  auto job = std::make_shared<Job>();
  job->account = std::string(account);
  job->name = spec.name;
  jobs_[{job->account, job->name}] = job;
  job->thread = std::thread([this, job] { Run(job); });
  spdlog::info("transform: job {} of account {} created", spec.name, account);
  return Json{{"TransformJobArn", arn}};
}

void TransformJobRunner::Run(std::shared_ptr<Job> job) {
  absl::Status result;
  auto rows = store_.Query(
      "SELECT request, model FROM transform_jobs WHERE account_id = ? AND "
      "name = ?",
      {job->account, job->name});
  if (!rows.ok() || rows->empty()) {
    result = absl::InternalError("the job's record could not be read");
  } else {
    transform::JobInput input;
    input.account = job->account;
    input.name = job->name;
    input.arn = hosting_.Arn(job->account, "transform-job", job->name);
    auto request = ParseJson((*rows)[0].Text(0));
    auto container = ParseJson((*rows)[0].Text(1));
    auto spec = request.ok() ? TransformJobSpec::FromRequest(*request, nullptr)
                             : absl::StatusOr<TransformJobSpec>(request.status());
    if (!spec.ok() || !container.ok()) {
      result = absl::InternalError("the job's record is corrupt");
    } else {
      input.spec = std::move(*spec);
      input.container = std::move(*container);
      transform::ExecutionContext ctx{store_,   objects_, resolver_, fetcher_,
                                      runtime_, clock_,   options_};
      result =
          transform::ExecuteTransformJob(ctx, input, job->abort, [&](const BatchParameters& p) {
            Json eff = {{"MaxConcurrentTransforms", p.max_concurrent_transforms},
                        {"MaxPayloadInMB", p.max_payload_mb},
                        {"BatchStrategy", StrategyName(p.strategy)}};
            int64_t now = absl::ToUnixMicros(clock_.Now());
            (void)store_.Exec(
                "UPDATE transform_jobs SET effective = ?, "
                "started_at = ?, last_modified = ? WHERE "
                "account_id = ? AND name = ?",
                {eff.dump(), now, now, job->account, job->name});
          });
    }
  }
  std::string status = kCompleted, reason;
  if (job->stop_requested) {
    status = kStopped;
  } else if (job->shutdown) {
    status = kFailed;
    reason = "mercatod shut down while the transform job was in progress";
  } else if (!result.ok()) {
    status = kFailed;
    reason = std::string(result.message()).substr(0, 1024);
  }
  int64_t now = absl::ToUnixMicros(clock_.Now());
  auto updated = store_.Exec(
      "UPDATE transform_jobs SET status = ?, failure_reason = ?, ended_at = ?, last_modified = ? "
      "WHERE account_id = ? AND name = ?",
      {status, reason, now, now, job->account, job->name});
  if (!updated.ok()) {
    spdlog::error("transform: cannot record the end of {}: {}", job->name,
                  updated.status().ToString());
  }
  spdlog::info("transform: job {} ended {}{}", job->name, status,
               reason.empty() ? "" : ": " + reason);
  std::lock_guard<std::mutex> lock(mu_);
  job->finished = true;
  idle_cv_.notify_all();
}

absl::StatusOr<Json> TransformJobRunner::Describe(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in));
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(fmt::format("SELECT {} FROM transform_jobs WHERE account_id = ? "
                                            "AND name = ?",
                                            kColumns),
                                {std::string(account), name}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Could not find requested job with name {}", name));
  }
  return DescribeRow(rows[0]);
}

absl::StatusOr<Json> TransformJobRunner::List(std::string_view account, const Json& in) {
  if (in.contains("StatusEquals") && !in["StatusEquals"].is_null()) {
    std::string s = in["StatusEquals"].is_string() ? in["StatusEquals"].get<std::string>() : "";
    if (s != kInProgress && s != kCompleted && s != kFailed && s != kStopping && s != kStopped) {
      return Invalid(fmt::format(
          "1 validation error detected: Value '{}' at 'statusEquals' failed to satisfy "
          "constraint: Member must satisfy enum value set: [InProgress, Completed, Failed, "
          "Stopping, Stopped]",
          s));
    }
  }
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query(fmt::format("SELECT {} FROM transform_jobs WHERE account_id = ?", kColumns),
                   {std::string(account)}));
  std::vector<hosting::internal::ListItem> items;
  for (const SqlRow& r : rows) {
    Json summary = {{"TransformJobName", r.Text(0)},
                    {"TransformJobArn", r.Text(1)},
                    {"TransformJobStatus", r.Text(3)},
                    {"CreationTime", Seconds(r.Int(8))},
                    {"LastModifiedTime", Seconds(r.Int(11))}};
    if (!r.IsNull(10)) summary["TransformEndTime"] = Seconds(r.Int(10));
    if (!r.Text(4).empty()) summary["FailureReason"] = r.Text(4);
    items.push_back({r.Text(0), r.Int(8), r.Int(11), r.Text(3), std::move(summary)});
  }
  return hosting::internal::PageOf(std::move(items), in, "TransformJobSummaries", "CreationTime");
}

absl::StatusOr<Json> TransformJobRunner::Stop(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in));
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT status FROM transform_jobs WHERE "
                                              "account_id = ? AND name = ?",
                                              {std::string(account), name}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Could not find requested job with name {}", name));
  }
  std::string status = rows[0].Text(0);
  if (status == kStopping || status == kStopped) return Json::object();
  if (status != kInProgress) {
    return Invalid(
        fmt::format("Transform job {} cannot be stopped: its status is {}", name, status));
  }
  int64_t now = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(store_
                      .Exec("UPDATE transform_jobs SET status = ?, last_modified = ? WHERE "
                            "account_id = ? AND name = ? AND status = ?",
                            {kStopping, now, std::string(account), name, kInProgress})
                      .status());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find({std::string(account), name});
  if (it != jobs_.end() && !it->second->finished) {
    it->second->stop_requested = true;
    it->second->abort.Trigger();
  } else if (it == jobs_.end()) {
    // No thread runs it (cannot normally happen): end it here so it is never stuck.
    RETURN_IF_ERROR(store_
                        .Exec("UPDATE transform_jobs SET status = ?, ended_at = ? WHERE "
                              "account_id = ? AND name = ? AND status = ?",
                              {kStopped, now, std::string(account), name, kStopping})
                        .status());
  }
  return Json::object();
}

bool TransformJobRunner::WaitIdle(std::string_view account, std::string_view name,
                                  absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    auto it = jobs_.find({std::string(account), std::string(name)});
    return it == jobs_.end() || it->second->finished;
  });
}

}  // namespace mercato::jobs
