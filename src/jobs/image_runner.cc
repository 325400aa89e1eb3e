#include "jobs/image_runner.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/logging.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"
#include "jobs/run_files.h"
#include "sandbox/log_files.h"

namespace mercato::jobs {
namespace fs = std::filesystem;

struct ImageRunner::Run {
  std::mutex mu;
  ImageRunInfo info;
  std::string dir;
  std::string log_dir;
  std::vector<std::string> layer_blob_ids;
  ImageRuntimeConfig config;
  bool is_train = false;
  std::unique_ptr<sandbox::FileLogReader> log_reader;
  std::vector<sandbox::LogEvent> log_lines;  // every line read so far
  bool model_packed = false;
};

namespace {

absl::Status Validation(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::Status NotPending(const ImageRunInfo& info, std::string_view what) {
  return AwsError(
      absl::StatusCode::kFailedPrecondition, "IncorrectState",
      fmt::format("cannot {} image run {}: it is {}, not Pending", what, info.id, info.state));
}

std::string TimeOrEmpty(absl::Time t) { return t == absl::InfinitePast() ? "" : FormatIso8601(t); }

absl::Status ResetDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", dir, ec.message()));
  return absl::OkStatus();
}

std::string ReadFailureFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string text(1024, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace

absl::StatusOr<ImageRunSpec> ImageRunSpec::FromJson(const Json& j) {
  if (!j.is_object()) return Validation("the request body must be a JSON object");
  ImageRunSpec spec;
  if (!j.contains("image") || !j["image"].is_string() || j["image"].get<std::string>().empty()) {
    return Validation("missing required string field 'image'");
  }
  spec.image = j["image"].get<std::string>();
  if (j.contains("instance_type") && !j["instance_type"].is_null()) {
    if (!j["instance_type"].is_string()) return Validation("'instance_type' must be a string");
    spec.instance_type = j["instance_type"].get<std::string>();
  }
  if (j.contains("args") && !j["args"].is_null()) {
    if (!j["args"].is_array()) return Validation("'args' must be an array of strings");
    for (const auto& a : j["args"]) {
      if (!a.is_string()) return Validation("'args' must be an array of strings");
      spec.args.push_back(a.get<std::string>());
    }
  }
  if (j.contains("hyperparameters") && !j["hyperparameters"].is_null()) {
    spec.hyperparameters = j["hyperparameters"];
  }
  if (j.contains("environment") && !j["environment"].is_null()) {
    if (!j["environment"].is_object()) return Validation("'environment' must be an object");
    for (const auto& [k, v] : j["environment"].items()) {
      if (!v.is_string()) return Validation("'environment' values must be strings");
      spec.environment[k] = v.get<std::string>();
    }
  }
  return spec;
}

Json ImageRunInfo::ToJson() const {
  Json j = {{"run_id", id},
            {"account_id", account_id},
            {"image", spec.image},
            {"image_uri", image_uri},
            {"image_digest", image_digest},
            {"instance_type", spec.instance_type},
            {"args", spec.args},
            {"hyperparameters", spec.hyperparameters},
            {"state", state},
            {"exit_code", nullptr},
            {"reason", reason},
            {"failure_reason", failure_reason},
            {"channels", channels},
            {"has_model_data", has_model_data},
            {"model_available", model_available},
            {"created_at", FormatIso8601(created_at)},
            {"started_at", TimeOrEmpty(started_at)},
            {"ended_at", TimeOrEmpty(ended_at)}};
  if (finished() && exit_code >= 0) j["exit_code"] = exit_code;
  return j;
}

absl::StatusOr<std::unique_ptr<ImageRunner>> ImageRunner::Create(Options options,
                                                                 ImageRegistry& registry,
                                                                 RootfsCache& rootfs,
                                                                 sandbox::ContainerRuntime& runtime,
                                                                 const Clock& clock) {
  if (options.runs_dir.empty() || options.logs_dir.empty()) {
    return absl::InvalidArgumentError("ImageRunner needs runs_dir and logs_dir");
  }
  std::error_code ec;
  fs::create_directories(options.runs_dir + "/.uploads", ec);
  if (ec) {
    return absl::InternalError(fmt::format("cannot create {}: {}", options.runs_dir, ec.message()));
  }
  // Uploads a crash interrupted are of no use.
  for (const auto& e : fs::directory_iterator(options.runs_dir + "/.uploads", ec)) {
    fs::remove_all(e.path(), ec);
  }
  return std::unique_ptr<ImageRunner>(
      new ImageRunner(std::move(options), registry, rootfs, runtime, clock));
}

ImageRunner::~ImageRunner() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, run] : runs_) {
    std::lock_guard<std::mutex> run_lock(run->mu);
    if (run->info.state == "Running") {
      absl::Status s = runtime_.Stop(id, absl::Seconds(2));
      if (!s.ok()) spdlog::warn("stopping image run {}: {}", id, s.ToString());
    }
  }
}

absl::StatusOr<ImageRunInfo> ImageRunner::CreateRun(std::string_view account_id,
                                                    ImageRunSpec spec) {
  if (spec.instance_type.empty()) spec.instance_type = options_.default_instance_type;
  ASSIGN_OR_RETURN(Json hyperparameters, StringifyHyperparameters(spec.hyperparameters));
  spec.hyperparameters = std::move(hyperparameters);
  ASSIGN_OR_RETURN(ImageRecord image, registry_.Resolve(account_id, spec.image));

  auto run = std::make_shared<Run>();
  ImageRunInfo& info = run->info;
  info.id = "run-" + RandomHex(8);
  info.account_id = std::string(account_id);
  info.spec = std::move(spec);
  info.image_uri = image.image_uri;
  info.image_digest = image.digest;
  info.state = "Pending";
  info.created_at = clock_.Now();
  run->config = image.config;
  for (const auto& layer : image.layers) run->layer_blob_ids.push_back(layer.blob_id);
  run->dir = options_.runs_dir + "/" + info.id;
  run->log_dir = options_.logs_dir + "/image-runs/" + info.id;
  for (const char* sub : {"input/config", "input/data", "model", "model-data", "output"}) {
    RETURN_IF_ERROR(ResetDir(run->dir + "/" + sub));
  }
  ImageRunInfo copy = info;
  std::lock_guard<std::mutex> lock(mu_);
  runs_[copy.id] = std::move(run);
  return copy;
}

absl::StatusOr<std::shared_ptr<ImageRunner::Run>> ImageRunner::Find(std::string_view account_id,
                                                                    std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end() || it->second->info.account_id != account_id) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("image run {} not found", id));
  }
  return it->second;
}

absl::StatusOr<ImageRunInfo> ImageRunner::Get(std::string_view account_id, std::string_view id) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  std::lock_guard<std::mutex> lock(run->mu);
  Refresh(*run);
  return run->info;
}

absl::StatusOr<std::vector<ImageRunInfo>> ImageRunner::List(std::string_view account_id) {
  std::vector<std::shared_ptr<Run>> runs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, run] : runs_) {
      if (run->info.account_id == account_id) runs.push_back(run);
    }
  }
  std::vector<ImageRunInfo> out;
  for (const auto& run : runs) {
    std::lock_guard<std::mutex> lock(run->mu);
    Refresh(*run);
    out.push_back(run->info);
  }
  return out;
}

absl::Status ImageRunner::PutModelData(std::string_view account_id, std::string_view id,
                                       const std::string& archive_path) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  std::lock_guard<std::mutex> lock(run->mu);
  if (run->info.state != "Pending") return NotPending(run->info, "add model data to");
  std::string dir = run->dir + "/model-data";
  RETURN_IF_ERROR(ResetDir(dir));
  absl::Status s = ExtractArchive(archive_path, dir, options_.max_extracted_bytes);
  if (!s.ok()) {
    (void)ResetDir(dir);
    return Validation(fmt::format("model data: {}", std::string(s.message())));
  }
  run->info.has_model_data = true;
  return absl::OkStatus();
}

absl::Status ImageRunner::PutChannel(std::string_view account_id, std::string_view id,
                                     std::string_view channel, const std::string& archive_path) {
  if (!IsValidChannelName(channel)) {
    return Validation(
        fmt::format("invalid channel name '{}': use [A-Za-z0-9._-], 1-64 characters", channel));
  }
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  std::lock_guard<std::mutex> lock(run->mu);
  if (run->info.state != "Pending") return NotPending(run->info, "add input to");
  std::string dir = run->dir + "/input/data/" + std::string(channel);
  RETURN_IF_ERROR(ResetDir(dir));
  absl::Status s = ExtractArchive(archive_path, dir, options_.max_extracted_bytes);
  if (!s.ok()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return Validation(fmt::format("channel {}: {}", channel, std::string(s.message())));
  }
  auto& channels = run->info.channels;
  if (std::find(channels.begin(), channels.end(), channel) == channels.end()) {
    channels.emplace_back(channel);
    std::sort(channels.begin(), channels.end());
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageRunInfo> ImageRunner::Start(std::string_view account_id, std::string_view id) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  std::lock_guard<std::mutex> lock(run->mu);
  if (run->info.state != "Pending") return NotPending(run->info, "start");
  absl::Status s = StartLocked(*run);
  if (!s.ok()) {
    // Bad requests leave the run Pending to be fixed; anything else fails it.
    if (s.code() != absl::StatusCode::kInvalidArgument &&
        s.code() != absl::StatusCode::kResourceExhausted) {
      run->info.state = "Failed";
      run->info.failure_reason = std::string(s.message());
      run->info.ended_at = clock_.Now();
    }
    return s;
  }
  return run->info;
}

absl::Status ImageRunner::StartLocked(Run& run) {
  ImageRunInfo& info = run.info;
  std::vector<std::string> argv = run.config.entrypoint;
  const std::vector<std::string>& tail = info.spec.args.empty() ? run.config.cmd : info.spec.args;
  argv.insert(argv.end(), tail.begin(), tail.end());
  if (argv.empty()) {
    return Validation("the image has no entrypoint or cmd: give the command as args");
  }
  run.is_train = std::find(tail.begin(), tail.end(), "train") != tail.end();
  RETURN_IF_ERROR(WriteTrainingConfig(run.dir + "/input/config", info.spec.hyperparameters,
                                      info.channels, info.spec.instance_type));
  ASSIGN_OR_RETURN(std::string rootfs, rootfs_.GetRootfs(info.image_digest, run.layer_blob_ids));

  sandbox::InstanceSpec spec;
  spec.id = info.id;
  spec.rootfs = rootfs;
  spec.entrypoint = argv[0];
  spec.args.assign(argv.begin() + 1, argv.end());
  for (const std::string& kv : run.config.env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) spec.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : info.spec.environment) spec.env[k] = v;
  spec.env.emplace("TRAINING_JOB_NAME", info.id);
  spec.env.emplace("SM_CURRENT_HOST", "algo-1");
  spec.mounts = {
      {run.dir + "/input", "/opt/ml/input", /*read_only=*/true},
      {run.dir + "/output", "/opt/ml/output", /*read_only=*/false},
  };
  if (run.is_train) {
    spec.mounts.push_back({run.dir + "/model", "/opt/ml/model", false});
  } else {
    spec.mounts.push_back({run.dir + "/model-data", "/opt/ml/model", true});
  }
  spec.instance_type = info.spec.instance_type;
  spec.hostname = "algo-1";
  spec.log_dir = run.log_dir;
  ASSIGN_OR_RETURN(sandbox::InstanceId started, runtime_.Start(spec));
  (void)started;
  info.state = "Running";
  info.started_at = clock_.Now();
  spdlog::info("image run {} started: {} {}", info.id, info.image_uri, fmt::join(argv, " "));
  return absl::OkStatus();
}

void ImageRunner::Refresh(Run& run) {
  ImageRunInfo& info = run.info;
  if (info.state != "Running") return;
  absl::StatusOr<sandbox::InstanceStatus> st = runtime_.Status(info.id);
  if (st.ok() && st->running) return;
  info.ended_at = clock_.Now();
  if (!st.ok()) {
    info.state = "Failed";
    info.reason = "Error";
    info.failure_reason =
        fmt::format("the instance was lost: {}", std::string(st.status().message()));
    return;
  }
  info.exit_code = st->exit_code;
  info.reason = st->reason;
  if (st->reason == "Stopped") {
    info.state = "Stopped";
  } else {
    info.state = st->exit_code == 0 ? "Completed" : "Failed";
  }
  info.failure_reason = ReadFailureFile(run.dir + "/output/failure");
  if (info.failure_reason.empty() && st->oom_killed) {
    info.failure_reason = "the instance ran out of memory (OutOfMemory)";
  }
  info.model_available = run.is_train && info.state == "Completed";
  (void)runtime_.Forget(info.id);
  spdlog::info("image run {} ended: {} (exit {})", info.id, info.state, info.exit_code);
}

absl::StatusOr<ImageRunInfo> ImageRunner::Stop(std::string_view account_id, std::string_view id) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  {
    std::lock_guard<std::mutex> lock(run->mu);
    Refresh(*run);
    if (run->info.state == "Pending") {
      run->info.state = "Stopped";
      run->info.reason = "Stopped";
      run->info.ended_at = clock_.Now();
    }
    if (run->info.state != "Running") return run->info;
  }
  // Not under the run's lock: stopping may take the whole grace period.
  RETURN_IF_ERROR(runtime_.Stop(run->info.id, options_.stop_grace));
  std::lock_guard<std::mutex> lock(run->mu);
  Refresh(*run);
  return run->info;
}

absl::StatusOr<LogChunk> ImageRunner::Logs(std::string_view account_id, std::string_view id,
                                           int64_t since_line, size_t max_lines) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  std::lock_guard<std::mutex> lock(run->mu);
  Refresh(*run);
  // Decided before reading, so lines written just before the end are not missed.
  bool finished = run->info.finished();
  LogChunk chunk;
  if (run->info.state != "Pending" && fs::exists(run->log_dir)) {
    if (!run->log_reader) run->log_reader = std::make_unique<sandbox::FileLogReader>(run->log_dir);
    for (;;) {
      ASSIGN_OR_RETURN(auto events, run->log_reader->Read(10000));
      if (events.empty()) break;
      for (auto& e : events) run->log_lines.push_back(std::move(e));
    }
  }
  int64_t total = static_cast<int64_t>(run->log_lines.size());
  int64_t from = std::clamp<int64_t>(since_line, 0, total);
  int64_t to = std::min<int64_t>(total, from + static_cast<int64_t>(max_lines));
  chunk.lines.assign(run->log_lines.begin() + from, run->log_lines.begin() + to);
  chunk.next_line = to;
  chunk.done = finished && to == total;
  return chunk;
}

absl::StatusOr<std::string> ImageRunner::ModelArchive(std::string_view account_id,
                                                      std::string_view id) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  std::lock_guard<std::mutex> lock(run->mu);
  Refresh(*run);
  if (!run->info.model_available) {
    return AwsError(absl::StatusCode::kFailedPrecondition, "IncorrectState",
                    fmt::format("image run {} has no model: only a completed train run produces "
                                "one (state {})",
                                id, run->info.state));
  }
  std::string path = run->dir + "/model.tar.gz";
  if (!run->model_packed) {
    std::string tmp = path + ".tmp";
    RETURN_IF_ERROR(PackDirectory(run->dir + "/model", tmp));
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return absl::InternalError(fmt::format("cannot write {}: {}", path, ec.message()));
    run->model_packed = true;
  }
  return path;
}

absl::StatusOr<int> ImageRunner::Dial(std::string_view account_id, std::string_view id, int port,
                                      absl::Duration timeout) {
  ASSIGN_OR_RETURN(auto run, Find(account_id, id));
  {
    std::lock_guard<std::mutex> lock(run->mu);
    Refresh(*run);
    if (run->info.state != "Running") {
      return AwsError(absl::StatusCode::kFailedPrecondition, "IncorrectState",
                      fmt::format("image run {} is {}, not Running", id, run->info.state));
    }
  }
  return runtime_.Dial(run->info.id, port, timeout);
}

absl::StatusOr<std::string> ImageRunner::MakeUploadDir() {
  std::string dir = options_.runs_dir + "/.uploads/" + RandomHex(8);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", dir, ec.message()));
  return dir;
}

}  // namespace mercato::jobs
