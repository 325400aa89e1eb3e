// The thread of one training job: image, channel download, instances, monitoring (metrics,
// MaxRuntimeInSeconds, StopTrainingJob), model upload and the final state. See
// training_job_runner.h for the contract.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/logging.h"
#include "base/status.h"
#include "fmt/format.h"
#include "jobs/run_files.h"
#include "jobs/training_job_runner.h"
#include "jobs/training_job_runner_internal.h"
#include "sandbox/log_files.h"

namespace mercato::jobs {
namespace fs = std::filesystem;
namespace ti = training_internal;
namespace {

constexpr size_t kMaxFailureReason = 1024;
constexpr uint64_t kMaxManifestBytes = 16 << 20;

enum class Cause { kNone, kFailed, kStopped, kMaxRuntime, kShutdown };

struct Host {
  std::string name;  // algo-i
  std::string instance_id;
  std::string dir;  // <job>/hosts/algo-i
  bool started = false;
};

std::string Truncate(std::string s, size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

std::string ReadPrefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<size_t>(in.gcount()));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

bool NonEmptyDir(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::directory_iterator(dir, ec) != fs::directory_iterator();
}

// argv[0] of a command that is not an absolute path, looked up on the image's PATH.
std::string FindOnPath(const hosting::ResolvedImage& image, const std::string& cmd) {
  if (cmd.empty() || cmd[0] == '/') return cmd;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& kv : image.env) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::error_code ec;
    if (!dir.empty() && fs::exists(image.rootfs + dir + "/" + cmd, ec)) return dir + "/" + cmd;
    start = end + 1;
  }
  return "/" + cmd;
}

// One execution of a job; lives on the job's thread.
class Execution {
 public:
  Execution(MetadataStore& store, storage::ObjectStore& objects, hosting::ImageResolver& resolver,
            sandbox::ContainerRuntime& runtime, const Clock& clock,
            const TrainingRunnerOptions& options, TrainingJobRunner::Job& job)
      : store_(store),
        objects_(objects),
        resolver_(resolver),
        runtime_(runtime),
        clock_(clock),
        options_(options),
        job_(job),
        spec_(job.spec) {}

  void Execute();

 private:
  int64_t Now() const { return absl::ToUnixMicros(clock_.Now()); }
  Cause Interrupted() {
    std::lock_guard<std::mutex> lock(job_.mu);
    if (job_.shutdown) return Cause::kShutdown;
    if (job_.stop_requested) return Cause::kStopped;
    return Cause::kNone;
  }
  void Transition(std::string_view status, std::string_view message);
  void Finish(Cause cause, std::string failure_reason);
  void Log(absl::Status s) {
    if (!s.ok()) spdlog::warn("training job {}/{}: {}", job_.account, job_.name, s.ToString());
  }

  absl::Status DownloadChannels();
  absl::Status DownloadChannel(const training::ChannelSpec& channel, const std::string& dest);
  absl::Status StartInstances(const hosting::ResolvedImage& image);
  Cause Monitor(std::string* failure_reason);
  void StopAll(absl::Duration grace);
  std::string HostFailure(const Host& host, const sandbox::InstanceStatus* st) const;
  absl::StatusOr<std::string> Upload();
  void Cleanup();

  MetadataStore& store_;
  storage::ObjectStore& objects_;
  hosting::ImageResolver& resolver_;
  sandbox::ContainerRuntime& runtime_;
  const Clock& clock_;
  const TrainingRunnerOptions& options_;
  TrainingJobRunner::Job& job_;
  const training::TrainingJobSpec& spec_;
  std::vector<Host> hosts_;
  absl::StatusOr<training::MetricCollector> metrics_ = training::MetricCollector::Create({});
};

void Execution::Transition(std::string_view status, std::string_view message) {
  std::lock_guard<std::mutex> lock(job_.mu);
  if (job_.state.status != ti::kInProgress) return;  // Stopping keeps its transition
  int64_t now = Now();
  ti::AddTransition(job_.state, status, message, now);
  if (status == "Training") job_.state.training_start = now;
  Log(ti::SaveState(store_, job_.account, job_.name, job_.state, now));
}

void Execution::Finish(Cause cause, std::string failure_reason) {
  std::lock_guard<std::mutex> lock(job_.mu);
  ti::JobState& s = job_.state;
  int64_t now = Now();
  if (s.training_start) s.training_end = now;
  if (metrics_.ok()) s.final_metrics = metrics_->Final();
  switch (cause) {
    case Cause::kNone:
      s.status = ti::kCompleted;
      ti::AddTransition(s, "Completed", "Training job completed", now, true);
      break;
    case Cause::kStopped:
      s.status = ti::kStopped;
      ti::AddTransition(s, "Stopped", "Training job stopped", now, true);
      break;
    case Cause::kMaxRuntime:
      s.status = ti::kStopped;
      ti::AddTransition(s, "MaxRuntimeExceeded",
                        "Training job runtime exceeded MaxRuntimeInSeconds provided", now, true);
      break;
    case Cause::kShutdown:
      failure_reason = ti::kShutdownReason;
      [[fallthrough]];
    case Cause::kFailed:
      s.status = ti::kFailed;
      s.failure_reason = Truncate(std::move(failure_reason), kMaxFailureReason);
      ti::AddTransition(s, "Failed", s.failure_reason, now, true);
      break;
  }
  Log(ti::SaveState(store_, job_.account, job_.name, s, now));
  spdlog::info("training job {}/{} ended {} ({}){}", job_.account, job_.name, s.status, s.secondary,
               s.failure_reason.empty() ? "" : ": " + s.failure_reason);
}

void Execution::Execute() {
  absl::StatusOr<training::MetricCollector> metrics =
      training::MetricCollector::Create(spec_.metrics);
  if (metrics.ok()) metrics_ = std::move(metrics);
  for (const std::string& h : training::HostNames(spec_.instance_count)) {
    hosts_.push_back({h, fmt::format("tj-{}-{}-{}", job_.account, job_.name, h),
                      fmt::format("{}/hosts/{}", job_.dir, h)});
  }
  std::error_code ec;
  fs::remove_all(job_.dir + "/input", ec);
  fs::remove_all(job_.dir + "/hosts", ec);

  auto end = [this](Cause cause, std::string failure_reason) {
    Finish(cause, std::move(failure_reason));
    Cleanup();
  };
  absl::StatusOr<hosting::ResolvedImage> image = resolver_.Resolve(
      spec_.image_account.empty() ? job_.account : spec_.image_account, spec_.image);
  if (!image.ok() && !spec_.algorithm_name.empty()) {
    // The algorithm's image is its seller's: do not name it to the buyer.
    spdlog::error("training job {}: {}", job_.name, image.status().ToString());
    return end(Cause::kFailed, fmt::format("ClientError: the image of algorithm {} cannot be used",
                                           spec_.algorithm_name));
  }
  if (Cause c = Interrupted(); c != Cause::kNone) return end(c, "");
  if (!image.ok()) {
    return end(Cause::kFailed, fmt::format("ClientError: the training image {} cannot be used: {}",
                                           spec_.image, std::string(image.status().message())));
  }
  Log(store_
          .Exec("UPDATE training_jobs SET image = ? WHERE account_id = ? AND name = ?",
                {spec_.algorithm_name.empty() ? image->image_uri : std::string(), job_.account,
                 job_.name})
          .status());

  Transition("Downloading", "Downloading input data");
  absl::Status downloaded = DownloadChannels();
  if (Cause c = Interrupted(); c != Cause::kNone) return end(c, "");
  if (!downloaded.ok()) {
    return end(Cause::kFailed, fmt::format("ClientError: {}", std::string(downloaded.message())));
  }

  Transition("Training", "Training image download completed. Training in progress.");
  absl::Status started = StartInstances(*image);
  if (!started.ok()) {
    StopAll(options_.abort_grace);
    std::string prefix = started.code() == absl::StatusCode::kResourceExhausted
                             ? "CapacityError: "
                             : "InternalServerError: the training instances could not start: ";
    return end(Cause::kFailed, prefix + std::string(started.message()));
  }

  std::string failure;
  Cause cause = Monitor(&failure);
  if (cause == Cause::kNone && Interrupted() == Cause::kStopped) cause = Cause::kStopped;
  if (cause == Cause::kFailed || cause == Cause::kShutdown) return end(cause, failure);
  // A stopped job keeps what its algorithm saved so far (as SageMaker does), if anything.
  bool upload = cause == Cause::kNone || NonEmptyDir(hosts_.front().dir + "/model");
  if (cause == Cause::kNone) Transition("Uploading", "Uploading generated training model");
  if (upload) {
    absl::StatusOr<std::string> uploaded = Upload();
    if (uploaded.ok()) {
      std::lock_guard<std::mutex> lock(job_.mu);
      job_.state.model_artifacts = *uploaded;
    } else if (cause == Cause::kNone) {
      return end(Cause::kFailed, fmt::format("ClientError: the model could not be uploaded: {}",
                                             std::string(uploaded.status().message())));
    } else {
      Log(uploaded.status());
    }
  }
  // A StopTrainingJob that arrived while uploading still ends the job Stopped.
  if (cause == Cause::kNone && Interrupted() == Cause::kStopped) cause = Cause::kStopped;
  end(cause, "");
}

absl::Status Execution::DownloadChannels() {
  for (const training::ChannelSpec& channel : spec_.channels) {
    std::string dest = fmt::format("{}/input/data/{}", job_.dir, channel.name);
    absl::Status s = DownloadChannel(channel, dest);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          fmt::format("channel {}: {}", channel.name, std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status Execution::DownloadChannel(const training::ChannelSpec& channel,
                                        const std::string& dest) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return absl::InternalError(fmt::format("create {}: {}", dest, ec.message()));
  ASSIGN_OR_RETURN(storage::S3Uri uri, storage::ObjectStore::ParseS3Uri(channel.s3_uri));
  // (bucket, key, relative path) of every file of the channel.
  std::vector<std::tuple<std::string, std::string, std::string>> files;
  if (channel.data_type == "ManifestFile") {
    ASSIGN_OR_RETURN(storage::ObjectReaderPtr reader,
                     objects_.Open(job_.account, uri.bucket, uri.key));
    if (reader->info().size > kMaxManifestBytes) {
      return absl::InvalidArgumentError(
          fmt::format("the manifest file {} is larger than 16 MiB", channel.s3_uri));
    }
    std::string text(reader->info().size, '\0');
    size_t got = 0;
    while (got < text.size()) {
      ASSIGN_OR_RETURN(size_t n, reader->Read(text.data() + got, text.size() - got));
      if (n == 0) break;
      got += n;
    }
    text.resize(got);
    ASSIGN_OR_RETURN(training::Manifest manifest, training::ParseManifest(text));
    ASSIGN_OR_RETURN(storage::S3Uri prefix, storage::ObjectStore::ParseS3Uri(manifest.prefix));
    for (const std::string& rel_key : manifest.keys) {
      std::string key = prefix.key + rel_key;
      std::optional<std::string> rel = training::ChannelRelativePath(prefix.key, key);
      if (!rel) {
        return absl::InvalidArgumentError(
            fmt::format("the manifest entry '{}' is not a file path", rel_key));
      }
      files.emplace_back(prefix.bucket, key, *rel);
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> listed,
                     objects_.List(job_.account, uri.bucket, uri.key));
    for (const storage::ObjectInfo& o : listed) {
      std::optional<std::string> rel = training::ChannelRelativePath(uri.key, o.key);
      if (rel) files.emplace_back(uri.bucket, o.key, *rel);
    }
  }
  if (files.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("No S3 objects found under S3 URL \"{}\" given in input data source. Please "
                    "ensure that the bucket exists in the selected region ({}) and that objects "
                    "exist under that S3 prefix.",
                    channel.s3_uri, options_.region));
  }
  for (const auto& [bucket, key, rel] : files) {
    if (Interrupted() != Cause::kNone) return absl::CancelledError("interrupted");
    fs::path target = fs::path(dest) / rel;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return absl::InternalError(fmt::format("create {}: {}", rel, ec.message()));
    absl::Status s = objects_.Download(job_.account, bucket, key, target.string());
    if (!s.ok()) {
      return absl::Status(s.code(),
                          fmt::format("s3://{}/{}: {}", bucket, key, std::string(s.message())));
    }
  }
  spdlog::info("training job {}/{}: channel {}: {} files", job_.account, job_.name, channel.name,
               files.size());
  return absl::OkStatus();
}

absl::Status Execution::StartInstances(const hosting::ResolvedImage& image) {
  std::vector<std::string> argv = spec_.entrypoint.empty() ? image.entrypoint : spec_.entrypoint;
  if (spec_.arguments.empty()) {
    argv.push_back("train");
  } else {
    argv.insert(argv.end(), spec_.arguments.begin(), spec_.arguments.end());
  }
  argv[0] = FindOnPath(image, argv[0]);
  std::map<std::string, std::string> env;
  for (const std::string& kv : image.env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec_.environment) env[k] = v;
  env["TRAINING_JOB_NAME"] = job_.name;
  env["TRAINING_JOB_ARN"] = job_.arn;
  std::vector<std::string> names = training::HostNames(spec_.instance_count);
  std::error_code ec;
  fs::create_directories(job_.dir + "/input/config", ec);  // mount point of the host config
  for (Host& host : hosts_) {
    for (const char* sub : {"model", "output/data", "checkpoints"}) {
      fs::create_directories(host.dir + "/" + sub, ec);
      if (ec) return absl::InternalError(fmt::format("create {}: {}", host.dir, ec.message()));
    }
    RETURN_IF_ERROR(training::WriteHostConfig(host.dir + "/config", spec_, host.name));
  }
  for (Host& host : hosts_) {
    sandbox::InstanceSpec s;
    s.id = host.instance_id;
    s.rootfs = image.rootfs;
    s.entrypoint = argv[0];
    s.args.assign(argv.begin() + 1, argv.end());
    s.env = env;
    s.env["SM_CURRENT_HOST"] = host.name;
    s.mounts = {{job_.dir + "/input", "/opt/ml/input", true},
                {host.dir + "/config", "/opt/ml/input/config", true},
                {host.dir + "/model", "/opt/ml/model", false},
                {host.dir + "/output", "/opt/ml/output", false},
                {host.dir + "/checkpoints", "/opt/ml/checkpoints", false}};
    s.instance_type = spec_.instance_type;
    s.network_group = fmt::format("tj-{}-{}", job_.account, job_.name);
    s.group_hosts = names;
    s.hostname = host.name;
    s.log_dir = fmt::format("{}/logs/{}", job_.dir, host.name);
    if (Interrupted() != Cause::kNone) return absl::OkStatus();  // Monitor sees it
    ASSIGN_OR_RETURN(sandbox::InstanceId id, runtime_.Start(s));
    (void)id;
    host.started = true;
    Log(store_
            .Exec("INSERT INTO training_job_instances (instance_id, account_id, job_name, "
                  "instance_type, started_at, product_ids, resource_arn) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?)",
                  {fmt::format("{}-{}", host.instance_id, Now()), job_.account, job_.name,
                   spec_.instance_type, Now(), Json(spec_.product_ids).dump(), job_.arn})
            .status());
  }
  spdlog::info("training job {}/{}: {} instance(s) of {} started: {}", job_.account, job_.name,
               hosts_.size(), spec_.instance_type, fmt::join(argv, " "));
  return absl::OkStatus();
}

std::string Execution::HostFailure(const Host& host, const sandbox::InstanceStatus* st) const {
  std::string file = ReadPrefix(host.dir + "/output/failure", kMaxFailureReason);
  if (!file.empty()) return "AlgorithmError: " + file;
  if (st == nullptr)
    return fmt::format("InternalServerError: the instance of {} was lost", host.name);
  if (st->oom_killed || st->reason == "OutOfMemory") {
    return fmt::format(
        "AlgorithmError: the training container on {} ran out of memory (instance type {})",
        host.name, spec_.instance_type);
  }
  if (st->signal > 0) {
    return fmt::format("AlgorithmError: the training container on {} was killed by signal {}",
                       host.name, st->signal);
  }
  return fmt::format("AlgorithmError: the training container on {} exited with status {}",
                     host.name, st->exit_code);
}

void Execution::StopAll(absl::Duration grace) {
  std::vector<std::thread> threads;
  for (const Host& host : hosts_) {
    if (!host.started) continue;
    threads.emplace_back([this, &host, grace] { Log(runtime_.Stop(host.instance_id, grace)); });
  }
  for (auto& t : threads) t.join();
}

Cause Execution::Monitor(std::string* failure_reason) {
  sandbox::FileLogReader algo1_log(fmt::format("{}/logs/algo-1", job_.dir));
  auto drain_logs = [&] {
    while (true) {
      auto events = algo1_log.Read(10000);
      if (!events.ok() || events->empty()) return;
      if (metrics_.ok()) {
        for (const sandbox::LogEvent& e : *events) metrics_->Feed(e.message, e.time);
      }
    }
  };
  absl::Time start = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(job_.mu);
    if (job_.state.training_start) start = absl::FromUnixMicros(*job_.state.training_start);
  }
  absl::Time deadline = start + absl::Seconds(spec_.max_runtime_seconds);
  Cause cause = Cause::kNone;
  while (true) {
    drain_logs();
    bool all_exited = true;
    for (const Host& host : hosts_) {
      if (!host.started) continue;
      absl::StatusOr<sandbox::InstanceStatus> st = runtime_.Status(host.instance_id);
      if (st.ok() && st->running) {
        all_exited = false;
        continue;
      }
      bool failed = !st.ok() || (st->exit_code != 0 && st->reason != "Stopped");
      if (failed && cause == Cause::kNone) {
        cause = Cause::kFailed;
        *failure_reason = HostFailure(host, st.ok() ? &*st : nullptr);
      }
    }
    if (all_exited) break;
    if (cause == Cause::kNone) cause = Interrupted();
    if (cause == Cause::kNone && clock_.Now() >= deadline) {
      cause = Cause::kMaxRuntime;
      spdlog::info("training job {}/{}: MaxRuntimeInSeconds ({}) exceeded, stopping", job_.account,
                   job_.name, spec_.max_runtime_seconds);
    }
    if (cause != Cause::kNone) {
      // Blocks until every instance is gone; the next round sees them exited.
      StopAll(cause == Cause::kStopped || cause == Cause::kMaxRuntime ? options_.stop_grace
                                                                      : options_.abort_grace);
      continue;
    }
    std::unique_lock<std::mutex> lock(job_.mu);
    job_.cv.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                     [&] { return job_.stop_requested || job_.shutdown; });
  }
  drain_logs();
  if (cause == Cause::kNone && hosts_.size() > 0 && !hosts_[0].started) {
    // Interrupted before the instances started.
    cause = Interrupted();
  }
  int64_t now = Now();
  for (const Host& host : hosts_) {
    if (!host.started) continue;
    Log(store_
            .Exec("UPDATE training_job_instances SET stopped_at = ? WHERE instance_id LIKE ? "
                  "AND stopped_at IS NULL",
                  {now, host.instance_id + "-%"})
            .status());
    Log(runtime_.Forget(host.instance_id));
  }
  return cause;
}

absl::StatusOr<std::string> Execution::Upload() {
  ASSIGN_OR_RETURN(storage::S3Uri out, storage::ObjectStore::ParseS3Uri(spec_.output_path));
  std::string prefix = out.key;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string base = fmt::format("{}{}{}/output/", prefix, prefix.empty() ? "" : "/", job_.name);
  const Host& first = hosts_.front();
  std::string archive = job_.dir + "/model.tar.gz";
  RETURN_IF_ERROR(PackDirectory(first.dir + "/model", archive));
  ASSIGN_OR_RETURN(storage::ObjectInfo info,
                   objects_.PutFile(job_.account, out.bucket, base + "model.tar.gz",
                                    "application/x-tar", archive));
  std::error_code ec;
  fs::remove(archive, ec);
  if (NonEmptyDir(first.dir + "/output/data")) {
    std::string output_archive = job_.dir + "/output.tar.gz";
    RETURN_IF_ERROR(PackDirectory(first.dir + "/output/data", output_archive));
    RETURN_IF_ERROR(objects_
                        .PutFile(job_.account, out.bucket, base + "output.tar.gz",
                                 "application/x-tar", output_archive)
                        .status());
    fs::remove(output_archive, ec);
  }
  return fmt::format("s3://{}/{}", out.bucket, info.key);
}

void Execution::Cleanup() {
  // Channel data and model copies can be large; the logs stay.
  std::error_code ec;
  fs::remove_all(job_.dir + "/input", ec);
  fs::remove_all(job_.dir + "/hosts", ec);
}

}  // namespace

void TrainingJobRunner::Run(const std::shared_ptr<Job>& job) {
  Execution(store_, objects_, resolver_, runtime_, clock_, options_, *job).Execute();
  {
    std::lock_guard<std::mutex> lock(mu_);
    job->finished = true;
  }
  idle_cv_.notify_all();
}

}  // namespace mercato::jobs
