#include "jobs/transform_job_execution.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "base/crypto.h"
#include "base/logging.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/hosting_service.h"
#include "hosting/instance_client.h"
#include "hosting/serve_command.h"
#include "jobs/transform_job_data.h"
#include "jobs/transform_job_execution_internal.h"

namespace mercato::jobs::transform {
namespace fs = std::filesystem;

namespace internal {

std::string S3Url(std::string_view bucket, std::string_view key) {
  return fmt::format("s3://{}/{}", bucket, key);
}

const char* StrategyEnv(BatchStrategy s) {
  return s == BatchStrategy::kMultiRecord ? "MULTI_RECORD" : "SINGLE_RECORD";
}

// Lists the job's input objects and where each one's output goes.
absl::StatusOr<std::vector<InputObject>> ListInputs(const ExecutionContext& ctx,
                                                    const JobInput& job) {
  const TransformJobSpec& s = job.spec;
  std::vector<InputObject> out;
  auto add = [&](const std::string& bucket, const std::string& key, std::string_view base) {
    out.push_back({bucket, key, s.output.bucket, OutputKeyFor(key, base, s.output.key)});
  };
  if (s.data_type == "S3Prefix") {
    auto keys = ctx.objects.List(job.account, s.input.bucket, s.input.key);
    if (!keys.ok()) {
      return absl::FailedPreconditionError(fmt::format("Cannot list the input {}: {}",
                                                       S3Url(s.input.bucket, s.input.key),
                                                       std::string(keys.status().message())));
    }
    for (const std::string& k : *keys) {
      if (!k.empty() && k.back() != '/') add(s.input.bucket, k, s.input.key);
    }
  } else {
    auto manifest = ctx.objects.Read(job.account, s.input.bucket, s.input.key, 64 << 20);
    if (!manifest.ok()) {
      return absl::FailedPreconditionError(fmt::format("Cannot read the manifest {}: {}",
                                                       S3Url(s.input.bucket, s.input.key),
                                                       std::string(manifest.status().message())));
    }
    auto j = ParseJson(*manifest);
    if (!j.ok() || !j->is_array() || j->empty() || !(*j)[0].is_object() ||
        !(*j)[0].contains("prefix") || !(*j)[0]["prefix"].is_string()) {
      return absl::FailedPreconditionError(fmt::format(
          "The manifest {} must be a JSON array starting with {{\"prefix\": \"s3://...\"}}",
          S3Url(s.input.bucket, s.input.key)));
    }
    auto prefix = ParseS3Location((*j)[0]["prefix"].get<std::string>());
    if (!prefix.ok()) {
      return absl::FailedPreconditionError(
          fmt::format("The manifest's prefix is not an s3:// URL: {}", (*j)[0]["prefix"].dump()));
    }
    for (size_t i = 1; i < j->size(); ++i) {
      if (!(*j)[i].is_string()) {
        return absl::FailedPreconditionError("Manifest entries after the prefix must be strings");
      }
      std::string rel = (*j)[i].get<std::string>();
      add(prefix->bucket, prefix->key + rel, prefix->key);
    }
  }
  if (out.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("No input objects found under {}", S3Url(s.input.bucket, s.input.key)));
  }
  return out;
}

void Execution::Fail(absl::Status s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // An error that follows a stop (connections reset by it) is not the job's failure.
    if (first_error_.ok() && !abort_.triggered()) first_error_ = std::move(s);
  }
  abort_.Trigger();
  cv_.notify_all();
}

absl::Status Execution::StartInstances() {
  std::string image_ref = job_.container.value("Image", "");
  // A model package's image and model data are the seller's: errors must not name them.
  const bool package = job_.container.contains("ModelPackageName");
  const std::string shown =
      package ? "of model package " + job_.container["ModelPackageName"].get<std::string>()
              : image_ref;
  auto image =
      ctx_.resolver.Resolve(hosting::ImageAccountOf(job_.container, job_.account), image_ref);
  if (!image.ok()) {
    if (package) spdlog::error("transform {}: {}", job_.name, image.status().ToString());
    return absl::FailedPreconditionError(
        fmt::format("The model's image {} could not be resolved{}", shown,
                    package ? "" : ": " + std::string(image.status().message())));
  }
  dir_ = fmt::format("{}/{}-{}-{}", ctx_.options.jobs_dir, job_.account, job_.name, RandomHex(4));
  std::string model_dir = dir_ + "/model";
  std::error_code ec;
  fs::create_directories(model_dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", model_dir, ec.message()));
  if (job_.container.contains("ModelDataUrl")) {
    std::string data_account = hosting::ModelDataAccountOf(job_.container, job_.account);
    absl::Status fetched = ctx_.fetcher.Fetch(
        data_account, job_.container["ModelDataUrl"].get<std::string>(), model_dir);
    if (!fetched.ok() && data_account != job_.account) {
      spdlog::error("transform {}: {}", job_.name, fetched.ToString());
      return absl::FailedPreconditionError(
          fmt::format("The model data {} could not be prepared", shown));
    }
    RETURN_IF_ERROR(fetched);
  }
  sandbox::InstanceSpec base;
  base.rootfs = image->rootfs;
  for (const std::string& kv : image->env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) base.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (job_.container.contains("Environment") && job_.container["Environment"].is_object()) {
    for (auto& [k, v] : job_.container["Environment"].items()) {
      if (v.is_string()) base.env[k] = v.get<std::string>();
    }
  }
  for (const auto& [k, v] : spec_.environment) base.env[k] = v;
  base.env["SAGEMAKER_BATCH"] = "true";
  base.env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] =
      std::to_string(spec_.max_payload_mb.value_or(kDefaultMaxPayloadInMB));
  base.env["SAGEMAKER_BATCH_STRATEGY"] =
      StrategyEnv(spec_.batch_strategy.value_or(BatchStrategy::kSingleRecord));
  base.env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] =
      std::to_string(spec_.max_concurrent_transforms.value_or(kDefaultMaxConcurrentTransforms));
  ASSIGN_OR_RETURN(hosting::Command command, hosting::ServeCommand(*image, base.env, shown));
  base.entrypoint = std::move(command.entrypoint);
  base.args = std::move(command.args);
  base.mounts.push_back({model_dir, "/opt/ml/model", /*read_only=*/true});
  base.instance_type = spec_.instance_type;
  std::string prefix = job_.name.substr(0, 90);
  // The instances start side by side (the runtime is thread-safe): each start is mostly
  // waiting on the kernel, and the job cannot begin before the last one is up.
  const size_t n = static_cast<size_t>(std::max(spec_.instance_count, 0));
  std::vector<sandbox::InstanceSpec> specs(n, base);
  std::vector<absl::Status> started(n);
  for (size_t i = 0; i < n; ++i) {
    specs[i].id = fmt::format("{}-t{}-{}", prefix, i + 1, RandomHex(4));
    specs[i].log_dir = fmt::format("{}/logs/{}", dir_, specs[i].id);
  }
  {
    std::vector<std::thread> starters;
    for (size_t i = 1; i < n; ++i) {
      starters.emplace_back([&, i] { started[i] = ctx_.runtime.Start(specs[i]).status(); });
    }
    if (n > 0) started[0] = ctx_.runtime.Start(specs[0]).status();
    for (auto& t : starters) t.join();
  }
  absl::Status first_failure;
  for (size_t i = 0; i < n; ++i) {
    const sandbox::InstanceSpec& s = specs[i];
    if (!started[i].ok()) {
      if (first_failure.ok()) {
        first_failure = absl::FailedPreconditionError(
            fmt::format("Failed to start an instance of type {}: {}", spec_.instance_type,
                        std::string(started[i].message())));
      }
      continue;
    }
    auto inst = std::make_unique<Instance>();
    inst->id = s.id;
    instances_.push_back(std::move(inst));
    auto row = ctx_.store.Exec(
        "INSERT INTO transform_job_instances (instance_id, account_id, job_name, instance_type, "
        "started_at, stopped_at, product_ids, resource_arn) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
        {s.id, job_.account, job_.name, spec_.instance_type, absl::ToUnixMicros(ctx_.clock.Now()),
         job_.container.value("ProductIds", Json::array()).dump(), job_.arn});
    if (!row.ok()) spdlog::warn("transform: cannot record {}: {}", s.id, row.status().ToString());
  }
  return first_failure;
}

std::string Execution::LastLogLines(const std::string& id) {
  std::vector<std::string> lines;
  if (auto logs = ctx_.runtime.Logs(id); logs.ok()) {
    for (int round = 0; round < 100; ++round) {
      auto events = (*logs)->Read(1000);
      if (!events.ok() || events->empty()) break;
      for (auto& ev : *events) lines.push_back(ev.message);
    }
  }
  std::string tail;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i) {
    tail += (tail.empty() ? "" : " | ") + lines[i];
  }
  return tail.substr(0, 600);
}

absl::Status Execution::WaitHealthy() {
  auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(ctx_.options.startup_timeout);
  std::vector<bool> healthy(instances_.size(), false);
  int round = 0;
  while (true) {
    size_t ok = 0;
    for (size_t i = 0; i < instances_.size(); ++i) {
      if (healthy[i]) {
        ++ok;
        continue;
      }
      const std::string& id = instances_[i]->id;
      auto st = ctx_.runtime.Status(id);
      if (st.ok() && !st->running) {
        std::string tail = LastLogLines(id);
        return absl::FailedPreconditionError(fmt::format(
            "The container of transform instance {} {} before it passed the ping health "
            "check.{}",
            i + 1,
            st->reason == "OutOfMemory" ? "was killed for exceeding its memory limit"
                                        : fmt::format("exited with code {}", st->exit_code),
            tail.empty() ? "" : " Last log lines: " + tail));
      }
      // In the quick rounds a connect gets little time: a SYN lost while the container's
      // network comes up is resent only after a second (seen once as a 1 s start-up), and
      // the next round's fresh connect comes sooner.
      auto fd = ctx_.runtime.Dial(id, ctx_.options.container_port,
                                  round < kQuickPingRounds
                                      ? std::min(ctx_.options.ping_timeout, kQuickDialTimeout)
                                      : ctx_.options.ping_timeout);
      if (!fd.ok()) continue;
      auto r = hosting::RoundTrip(
          *fd, "GET", "/ping", {}, "",
          std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(ctx_.options.ping_timeout),
          1 << 20);
      ::close(*fd);
      if (r.ok() && r->status == 200) {
        healthy[i] = true;
        ++ok;
      }
    }
    if (ok == instances_.size()) return absl::OkStatus();
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          fmt::format("The model container did not pass the ping health check within {} seconds",
                      absl::ToInt64Seconds(ctx_.options.startup_timeout)));
    }
    // Containers usually come up within a few hundred milliseconds, so the first rounds
    // come quicker than poll_interval: the job should not idle for most of a round.
    absl::Duration wait = ctx_.options.poll_interval;
    if (++round <= kQuickPingRounds) wait = std::min(wait, kQuickPingInterval);
    if (abort_.WaitFor(wait)) return absl::CancelledError("stopped");
  }
}

Json Execution::ExecutionParameters() {
  auto fd =
      ctx_.runtime.Dial(instances_[0]->id, ctx_.options.container_port, ctx_.options.ping_timeout);
  if (!fd.ok()) return nullptr;
  auto r = hosting::RoundTrip(
      *fd, "GET", "/execution-parameters", {}, "",
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(ctx_.options.ping_timeout),
      1 << 20);
  ::close(*fd);
  if (!r.ok() || r->status != 200) return nullptr;
  auto j = ParseJson(r->body);
  return j.ok() && j->is_object() ? *j : Json(nullptr);
}

void Execution::StopInstances() {
  // A container still starting may not handle SIGTERM yet (as PID 1 it then ignores it) and
  // holds no work worth a graceful end, so it gets a short grace.
  absl::Duration grace =
      healthy_ ? ctx_.options.stop_grace : std::min(ctx_.options.stop_grace, absl::Seconds(2));
  // The instances stop side by side, as they start: each stop mostly waits for a container
  // to exit, and the job ends only once every one has.
  std::vector<std::thread> stoppers;
  for (auto& inst : instances_) {
    for (int& fd : inst->fds) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    stoppers.emplace_back([this, id = inst->id, grace] {
      absl::Status s = ctx_.runtime.Stop(id, grace);
      if (!s.ok() && !absl::IsNotFound(s)) {
        spdlog::warn("transform: cannot stop {}: {}", id, s.ToString());
      }
      (void)ctx_.runtime.Forget(id);
      (void)ctx_.store.Exec(
          "UPDATE transform_job_instances SET stopped_at = ? WHERE instance_id = ? AND "
          "stopped_at IS NULL",
          {absl::ToUnixMicros(ctx_.clock.Now()), id});
    });
  }
  for (auto& t : stoppers) t.join();
  instances_.clear();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_ + "/model", ec);
  }
}

absl::Status Execution::Run(const std::function<void(const BatchParameters&)>& on_ready) {
  const absl::Time started_at = absl::Now();  // for the timing log only
  ASSIGN_OR_RETURN(objects_, ListInputs(ctx_, job_));
  std::vector<std::thread> threads;
  auto start_readers = [&] {
    for (size_t i = 0; i < kReaders; ++i) threads.emplace_back([this] { ReadLoop(); });
  };
  // Readers started early must end if the instances never come up.
  struct Cleanup {
    Execution* e;
    std::vector<std::thread>* threads;
    ~Cleanup() {
      {
        std::lock_guard<std::mutex> lock(e->mu_);
        e->stop_reading_ = true;
      }
      e->cv_.notify_all();
      for (auto& t : *threads) t.join();
    }
  } cleanup{this, &threads};
  // When the request fixes how objects are cut into batches, the first objects are read while
  // the instances start; else GET /execution-parameters must answer first.
  const bool batching_known = spec_.max_payload_mb.has_value() && spec_.batch_strategy.has_value();
  if (batching_known) {
    batching_ = ResolveBatchParameters(spec_, nullptr);
    slots_ = static_cast<size_t>(std::max(spec_.instance_count, 1)) *
             static_cast<size_t>(batching_.max_concurrent_transforms);
    start_readers();
  }
  RETURN_IF_ERROR(StartInstances());
  RETURN_IF_ERROR(WaitHealthy());
  healthy_ = true;
  params_ = ResolveBatchParameters(spec_, ExecutionParameters());
  on_ready(params_);
  for (auto& inst : instances_) inst->fds.assign(params_.max_concurrent_transforms, -1);
  const absl::Time ready_at = absl::Now();

  // Three stages overlap: readers prepare the next objects while every instance keeps
  // MaxConcurrentTransforms requests in flight (across object boundaries), and this thread
  // assembles and writes each object once all its batches are answered.
  absl::Status read_error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    slots_ = instances_.size() * static_cast<size_t>(params_.max_concurrent_transforms);
    running_ = true;
    read_error = read_error_;
  }
  if (!read_error.ok()) Fail(read_error);
  if (!batching_known) {
    batching_ = params_;
    start_readers();
  }
  for (auto& inst : instances_) {
    for (size_t slot = 0; slot < inst->fds.size(); ++slot) {
      threads.emplace_back([this, &inst, slot] { SlotLoop(*inst, slot); });
    }
  }
  WriteLoop();
  if (abort_.triggered()) {
    // Stopping the containers breaks requests in flight, so the slots end promptly.
    for (auto& inst : instances_) (void)ctx_.runtime.Stop(inst->id, ctx_.options.stop_grace);
  }
  for (auto& t : threads) t.join();
  threads.clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (!first_error_.ok()) return first_error_;
  if (abort_.triggered()) return absl::CancelledError("stopped");
  spdlog::info("transform {}: {} objects transformed in {} ms after {} ms of start-up", job_.name,
               objects_.size(), absl::ToInt64Milliseconds(absl::Now() - ready_at),
               absl::ToInt64Milliseconds(ready_at - started_at));
  return absl::OkStatus();
}

}  // namespace internal

namespace {

using internal::Execution;

int JsonInt(const Json& j, const char* key, int fallback) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return fallback;
  return j[key].get<int>();
}

}  // namespace

void Abort::Trigger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
  }
  cv_.notify_all();
}

bool Abort::triggered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return set_;
}

bool Abort::WaitFor(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoMilliseconds(d), [this] { return set_; });
}

BatchParameters ResolveBatchParameters(const TransformJobSpec& spec, const Json& container_params) {
  BatchParameters p;
  p.max_concurrent_transforms = spec.max_concurrent_transforms.value_or(
      JsonInt(container_params, "MaxConcurrentTransforms", kDefaultMaxConcurrentTransforms));
  p.max_payload_mb = spec.max_payload_mb.value_or(
      JsonInt(container_params, "MaxPayloadInMB", kDefaultMaxPayloadInMB));
  if (spec.batch_strategy) {
    p.strategy = *spec.batch_strategy;
  } else if (container_params.is_object() && container_params.contains("BatchStrategy") &&
             container_params["BatchStrategy"].is_string()) {
    p.strategy = ParseBatchStrategy(container_params["BatchStrategy"].get<std::string>())
                     .value_or(BatchStrategy::kSingleRecord);
  }
  p.max_payload_mb = std::clamp(p.max_payload_mb, 0, 100);
  p.max_concurrent_transforms =
      std::clamp(p.max_concurrent_transforms, 1, internal::kMaxConcurrencyPerInstance);
  if (p.max_payload_mb > 0 && p.max_payload_mb * p.max_concurrent_transforms > 100) {
    p.max_concurrent_transforms = std::max(1, 100 / p.max_payload_mb);
  }
  return p;
}

absl::Status ExecuteTransformJob(const ExecutionContext& ctx, const JobInput& job, Abort& abort,
                                 const std::function<void(const BatchParameters&)>& on_ready) {
  Execution e(ctx, job, abort);
  return e.Run(on_ready);
}

}  // namespace mercato::jobs::transform
