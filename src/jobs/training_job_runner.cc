// TrainingJobRunner: records and the SageMaker actions. The job thread is in
// training_job_execution.cc.
#include "jobs/training_job_runner.h"

#include <cmath>

#include "base/errors.h"
#include "base/ids.h"
#include "base/logging.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/list_page.h"
#include "jobs/job_threads.h"
#include "jobs/training_job_runner_internal.h"
#include "sandbox/log_files.h"

namespace mercato::jobs {
using training_internal::JobState;
namespace ti = training_internal;
namespace {

constexpr char kColumns[] =
    "name, arn, status, secondary_status, failure_reason, request, transitions, final_metrics, "
    "model_artifacts, created_at, training_start, training_end, last_modified";

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

absl::Status NotFound() {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound", "Requested resource not found.");
}

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

absl::StatusOr<std::string> RequiredName(const Json& in) {
  auto it = in.find("TrainingJobName");
  if (it == in.end() || !it->is_string()) {
    return Invalid(
        "1 validation error detected: Value null at 'trainingJobName' failed to satisfy "
        "constraint: Member must not be null");
  }
  return it->get<std::string>();
}

Json TransitionsInSeconds(const Json& transitions) {
  Json out = Json::array();
  for (const Json& t : transitions) {
    Json e = {{"Status", t.value("Status", "")},
              {"StartTime", Seconds(t.value("StartTime", int64_t{0}))}};
    if (t.contains("EndTime")) e["EndTime"] = Seconds(t["EndTime"].get<int64_t>());
    if (t.contains("StatusMessage")) e["StatusMessage"] = t["StatusMessage"];
    out.push_back(std::move(e));
  }
  return out;
}

// DescribeTrainingJob's answer for one row (columns as in kColumns).
Json DescribeRow(const SqlRow& r) {
  Json request = ParseJson(r.Text(5)).value_or(Json::object());
  Json out = {{"TrainingJobName", r.Text(0)},
              {"TrainingJobArn", r.Text(1)},
              {"TrainingJobStatus", r.Text(2)},
              {"SecondaryStatus", r.Text(3)}};
  if (!r.Text(4).empty()) out["FailureReason"] = r.Text(4);
  if (!r.Text(8).empty()) out["ModelArtifacts"] = {{"S3ModelArtifacts", r.Text(8)}};
  out.update(training::DescribedRequest(request));
  out["CreationTime"] = Seconds(r.Int(9));
  out["LastModifiedTime"] = Seconds(r.Int(12));
  if (!r.IsNull(10)) out["TrainingStartTime"] = Seconds(r.Int(10));
  if (!r.IsNull(11)) out["TrainingEndTime"] = Seconds(r.Int(11));
  if (!r.IsNull(10) && !r.IsNull(11)) {
    int64_t secs = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(Seconds(r.Int(11) - r.Int(10)) - 1e-6)));
    out["TrainingTimeInSeconds"] = secs;
    out["BillableTimeInSeconds"] = secs;
  }
  out["SecondaryStatusTransitions"] =
      TransitionsInSeconds(ParseJson(r.Text(6)).value_or(Json::array()));
  out["FinalMetricDataList"] = ParseJson(r.Text(7)).value_or(Json::array());
  return out;
}

}  // namespace

namespace training_internal {

void AddTransition(JobState& s, std::string_view status, std::string_view message, int64_t now,
                   bool terminal) {
  if (!s.transitions.empty() && !s.transitions.back().contains("EndTime")) {
    s.transitions.back()["EndTime"] = now;
  }
  Json t = {{"Status", status}, {"StartTime", now}, {"StatusMessage", message}};
  if (terminal) t["EndTime"] = now;
  s.transitions.push_back(std::move(t));
  s.secondary = std::string(status);
}

absl::Status SaveState(MetadataStore& store, std::string_view account, std::string_view name,
                       const JobState& s, int64_t now) {
  SqlParams params = {
      s.status,         s.secondary, s.failure_reason, s.transitions.dump(), s.final_metrics.dump(),
      s.model_artifacts};
  params.emplace_back(std::monostate());
  if (s.training_start) params.back() = *s.training_start;
  params.emplace_back(std::monostate());
  if (s.training_end) params.back() = *s.training_end;
  params.insert(params.end(), {now, std::string(account), std::string(name)});
  return store
      .Exec(
          "UPDATE training_jobs SET status = ?, secondary_status = ?, failure_reason = ?, "
          "transitions = ?, final_metrics = ?, model_artifacts = ?, training_start = ?, "
          "training_end = ?, last_modified = ? WHERE account_id = ? AND name = ?",
          params)
      .status();
}

}  // namespace training_internal

TrainingJobRunner::TrainingJobRunner(MetadataStore& store, storage::ObjectStore& objects,
                                     hosting::ImageResolver& resolver,
                                     sandbox::ContainerRuntime& runtime, const Clock& clock,
                                     TrainingRunnerOptions options)
    : store_(store),
      objects_(objects),
      resolver_(resolver),
      runtime_(runtime),
      clock_(clock),
      options_(std::move(options)) {}

TrainingJobRunner::~TrainingJobRunner() { Shutdown(); }

std::string TrainingJobRunner::JobDir(std::string_view account, std::string_view name) const {
  return fmt::format("{}/{}/{}", options_.jobs_dir, account, name);
}

absl::Status TrainingJobRunner::Recover() {
  int64_t now = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT account_id, name, status, transitions, training_start "
                                "FROM training_jobs WHERE status = ? OR status = ?",
                                {ti::kInProgress, ti::kStopping}));
  for (const SqlRow& r : rows) {
    JobState s;
    ASSIGN_OR_RETURN(s.transitions, ParseJson(r.Text(3)));
    if (!r.IsNull(4)) {
      s.training_start = r.Int(4);
      s.training_end = now;
    }
    if (r.Text(2) == ti::kStopping) {
      s.status = ti::kStopped;
      ti::AddTransition(s, "Stopped", "Training job stopped (mercatod restarted while stopping)",
                        now, true);
    } else {
      s.status = ti::kFailed;
      s.failure_reason = ti::kRestartReason;
      ti::AddTransition(s, "Failed", ti::kRestartReason, now, true);
    }
    // Keep what the job had recorded besides its state.
    ASSIGN_OR_RETURN(SqlRows prev, store_.Query("SELECT final_metrics, model_artifacts FROM "
                                                "training_jobs WHERE account_id = ? AND name = ?",
                                                {r.Text(0), r.Text(1)}));
    if (!prev.empty()) {
      s.final_metrics = ParseJson(prev[0].Text(0)).value_or(Json::array());
      s.model_artifacts = prev[0].Text(1);
    }
    RETURN_IF_ERROR(ti::SaveState(store_, r.Text(0), r.Text(1), s, now));
    spdlog::warn("training job {}/{} ended {}: {}", r.Text(0), r.Text(1), s.status,
                 ti::kRestartReason);
  }
  return store_
      .Exec("UPDATE training_job_instances SET stopped_at = ? WHERE stopped_at IS NULL", {now})
      .status();
}

void TrainingJobRunner::Shutdown() {
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    jobs.swap(jobs_);
  }
  for (auto& [key, job] : jobs) {
    std::lock_guard<std::mutex> lock(job->mu);
    job->shutdown = true;
    job->cv.notify_all();
  }
  for (auto& [key, job] : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
  idle_cv_.notify_all();
}

void TrainingJobRunner::ReapFinished() { ::mercato::jobs::ReapFinishedJobs(jobs_); }

absl::StatusOr<Json> TrainingJobRunner::Create(std::string_view account, const Json& in) {
  const Json* algo = in.is_object() && in.contains("AlgorithmSpecification")
                         ? &in["AlgorithmSpecification"]
                         : nullptr;
  if (algo && algo->is_object() && algo->contains("AlgorithmName") &&
      in.value("EnableManagedSpotTraining", false)) {
    return Invalid("Managed spot training is not supported for marketplace algorithms");
  }
  ASSIGN_OR_RETURN(training::TrainingJobSpec spec,
                   training::TrainingJobSpec::FromRequest(in, &options_.instance_types,
                                                          options_.max_instance_count));
  if (!spec.algorithm_name.empty()) {
    // The job runs the request the algorithm resolves to; Describe still echoes `in`.
    if (!algorithm_resolver_) {
      return Invalid("AlgorithmSpecification.AlgorithmName: algorithms are not available");
    }
    ASSIGN_OR_RETURN(ResolvedAlgorithm resolved, algorithm_resolver_(account, in));
    std::string algorithm = spec.algorithm_name;
    ASSIGN_OR_RETURN(
        spec, training::TrainingJobSpec::FromRequest(resolved.request, &options_.instance_types,
                                                     options_.max_instance_count));
    spec.algorithm_name = algorithm;
    spec.image_account = resolved.image_account;
    spec.product_ids = resolved.product_ids;
  }
  if (options_.check_image && spec.algorithm_name.empty()) {
    absl::Status s = options_.check_image(account, spec.image);
    if (!s.ok()) {
      return Invalid(fmt::format("Requested image {} not found or not accessible: {}", spec.image,
                                 std::string(s.message())));
    }
  }
  auto check_bucket = [&](std::string_view what, std::string_view uri) -> absl::Status {
    ASSIGN_OR_RETURN(storage::S3Uri u, storage::ObjectStore::ParseS3Uri(uri));
    absl::Status s = objects_.CheckBucket(account, u.bucket);
    if (!s.ok()) return Invalid(fmt::format("{}: {}", what, std::string(s.message())));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(check_bucket("OutputDataConfig.S3OutputPath", spec.output_path));
  for (const auto& c : spec.channels) {
    RETURN_IF_ERROR(check_bucket(fmt::format("Channel {}", c.name), c.s3_uri));
  }

  std::string lower = spec.name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string arn = MakeArn("sagemaker", options_.region, account, "training-job", lower);
  int64_t now = absl::ToUnixMicros(clock_.Now());
  JobState state;
  ti::AddTransition(state, "Starting", "Preparing the instances for training", now);

  // Algorithms always train isolated (the sandbox has no route out in any case).
  Json stored = in;
  if (!spec.algorithm_name.empty()) stored["EnableNetworkIsolation"] = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return absl::UnavailableError("the server is shutting down");
  ReapFinished();
  auto inserted = store_.Exec(
      "INSERT INTO training_jobs (account_id, name, arn, status, secondary_status, "
      "failure_reason, request, image, transitions, final_metrics, model_artifacts, "
      "created_at, last_modified) VALUES (?, ?, ?, ?, ?, '', ?, '', ?, '[]', '', ?, ?)",
      {std::string(account), spec.name, arn, state.status, state.secondary, stored.dump(),
       state.transitions.dump(), now, now});
  if (!inserted.ok()) {
    if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
      return AwsError(absl::StatusCode::kAlreadyExists, "ResourceInUse",
                      fmt::format("Training job names must be unique within an AWS account and "
                                  "region, and a training job with this name already exists "
                                  "({})",
                                  arn));
    }
    return inserted.status();
  }
  auto job = std::make_shared<Job>();
  job->account = std::string(account);
  job->name = spec.name;
  job->arn = arn;
  job->dir = JobDir(account, spec.name);
  job->spec = std::move(spec);
  job->state = std::move(state);
  jobs_[{job->account, job->name}] = job;
  job->thread = std::thread([this, job] { Run(job); });
  spdlog::info("training job {}/{} created", job->account, job->name);
  return Json{{"TrainingJobArn", arn}};
}

absl::StatusOr<Json> TrainingJobRunner::Describe(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in));
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query(
          fmt::format("SELECT {} FROM training_jobs WHERE account_id = ? AND name = ?", kColumns),
          {std::string(account), name}));
  if (rows.empty()) return NotFound();
  return DescribeRow(rows[0]);
}

absl::StatusOr<Json> TrainingJobRunner::List(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query(fmt::format("SELECT {} FROM training_jobs WHERE account_id = ?", kColumns),
                   {std::string(account)}));
  std::vector<hosting::internal::ListItem> items;
  for (const SqlRow& r : rows) {
    Json summary = {{"TrainingJobName", r.Text(0)},      {"TrainingJobArn", r.Text(1)},
                    {"CreationTime", Seconds(r.Int(9))}, {"LastModifiedTime", Seconds(r.Int(12))},
                    {"TrainingJobStatus", r.Text(2)},    {"SecondaryStatus", r.Text(3)}};
    if (!r.IsNull(11)) summary["TrainingEndTime"] = Seconds(r.Int(11));
    items.push_back({r.Text(0), r.Int(9), r.Int(12), r.Text(2), std::move(summary)});
  }
  return hosting::internal::PageOf(std::move(items), in, "TrainingJobSummaries", "CreationTime");
}

absl::StatusOr<Json> TrainingJobRunner::Stop(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in));
  std::shared_ptr<Job> job;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find({std::string(account), name});
    if (it != jobs_.end()) job = it->second;
  }
  if (job) {
    std::lock_guard<std::mutex> lock(job->mu);
    if (job->state.status == ti::kInProgress) {
      int64_t now = absl::ToUnixMicros(clock_.Now());
      job->stop_requested = true;
      job->state.status = ti::kStopping;
      ti::AddTransition(job->state, "Stopping", "Stopping the training job", now);
      RETURN_IF_ERROR(ti::SaveState(store_, job->account, job->name, job->state, now));
      job->cv.notify_all();
      spdlog::info("training job {}/{}: stop requested", job->account, job->name);
      return Json::object();
    }
    if (job->state.status == ti::kStopping) return Json::object();
  }
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query("SELECT status FROM training_jobs WHERE account_id = ? AND name = ?",
                   {std::string(account), name}));
  if (rows.empty()) return NotFound();
  std::string status = rows[0].Text(0);
  if (status == ti::kStopping) return Json::object();
  return Invalid(
      fmt::format("The request was rejected because the training job is in status {}.", status));
}

absl::StatusOr<Json> TrainingJobRunner::Logs(std::string_view account, std::string_view name,
                                             const TrainingLogQuery& query) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT status, request FROM training_jobs WHERE account_id = ? "
                                "AND name = ?",
                                {std::string(account), std::string(name)}));
  if (rows.empty()) return NotFound();
  bool ended = rows[0].Text(0) != ti::kInProgress && rows[0].Text(0) != ti::kStopping;
  bool known_host = false;
  Json request = ParseJson(rows[0].Text(1)).value_or(Json::object());
  int count = 1;
  if (request.contains("ResourceConfig") && request["ResourceConfig"].contains("InstanceCount") &&
      request["ResourceConfig"]["InstanceCount"].is_number_integer()) {
    count = request["ResourceConfig"]["InstanceCount"].get<int>();
  }
  for (const std::string& h : training::HostNames(count)) known_host |= h == query.host;
  if (!known_host) {
    return Invalid(fmt::format("Training job {} has no host '{}'", name, query.host));
  }
  sandbox::FileLogReader reader(fmt::format("{}/logs/{}", JobDir(account, name), query.host));
  Json events = Json::array();
  int64_t index = 0;
  bool more = false;
  while (true) {
    auto batch = reader.Read(10000);
    if (!batch.ok() || batch->empty()) break;
    for (const sandbox::LogEvent& e : *batch) {
      if (index++ < query.since_line) continue;
      if (events.size() >= query.limit) {
        more = true;
        continue;
      }
      events.push_back(
          {{"timestamp", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", e.time, absl::UTCTimeZone())},
           {"stream", e.stream},
           {"message", e.message}});
    }
  }
  int64_t next = std::max<int64_t>(query.since_line, 0) + static_cast<int64_t>(events.size());
  return Json{{"TrainingJobName", std::string(name)},
              {"Host", query.host},
              {"events", std::move(events)},
              {"next_line", next},
              {"done", ended && !more}};
}

bool TrainingJobRunner::WaitIdle(std::string_view account, std::string_view name,
                                 absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    auto it = jobs_.find({std::string(account), std::string(name)});
    return it == jobs_.end() || it->second->finished;
  });
}

}  // namespace mercato::jobs
