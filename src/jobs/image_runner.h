// ImageRunner: runs an account's own image once, the seller's way to test it before listing
// (`mercato image run`). A run is created Pending with its image, instance type, arguments
// and hyperparameters; model data and input channels are then uploaded as archives; Start()
// resolves the image (ImageRegistry), unpacks it (RootfsCache) and starts one sandbox
// instance (ContainerRuntime) with SageMaker's /opt/ml layout:
//
//   DATA/runs/<id>/input/config/{hyperparameters,resourceconfig,inputdataconfig}.json
//   DATA/runs/<id>/input/data/<channel>/...  → /opt/ml/input   (read-only)
//   DATA/runs/<id>/model/                    → /opt/ml/model   (writable for `train`;
//                                               the extracted model data, read-only, else)
//   DATA/runs/<id>/output/                   → /opt/ml/output  (writable)
//
// States: Pending → Running → Completed (exit 0) | Failed | Stopped. The state is refreshed
// from the runtime whenever a run is read, so no thread watches runs. FailureReason is the
// first 1024 characters of /opt/ml/output/failure. Runs live in memory (a restart forgets
// them; their directories stay on disk); only the creating account sees a run (others get
// NotFound). Thread-safe; borrows the registry, cache, runtime and clock.
#pragma once

#include <cstdint>
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
#include "image/image_registry.h"
#include "image/rootfs_cache.h"
#include "sandbox/container_runtime.h"

namespace mercato::jobs {

struct ImageRunSpec {
  std::string image;          // a reference ImageRegistry resolves ("repo:tag", an image URI, ...)
  std::string instance_type;  // "" → ImageRunner::Options::default_instance_type
  std::vector<std::string> args;          // e.g. {"train"}; empty → the image's CMD
  Json hyperparameters = Json::object();  // values are written as strings
  std::map<std::string, std::string> environment;

  // Reads {"image", "instance_type", "args", "hyperparameters", "environment"}.
  static absl::StatusOr<ImageRunSpec> FromJson(const Json& j);
};

struct ImageRunInfo {
  std::string id;
  std::string account_id;
  ImageRunSpec spec;
  std::string image_uri;
  std::string image_digest;
  std::string state;  // Pending | Running | Completed | Failed | Stopped
  int exit_code = -1;
  std::string reason;          // runtime's: Completed | Error | OutOfMemory | Stopped
  std::string failure_reason;  // /opt/ml/output/failure, or why the start failed
  std::vector<std::string> channels;
  bool has_model_data = false;
  bool model_available = false;  // a finished `train` run whose model can be downloaded
  absl::Time created_at;
  absl::Time started_at = absl::InfinitePast();
  absl::Time ended_at = absl::InfinitePast();

  bool finished() const { return state == "Completed" || state == "Failed" || state == "Stopped"; }
  Json ToJson() const;
};

struct LogChunk {
  std::vector<sandbox::LogEvent> lines;
  int64_t next_line = 0;  // pass as since_line next time
  bool done = false;      // the run has finished and every line has been returned
};

class ImageRunner {
 public:
  struct Options {
    std::string runs_dir;  // DATA/runs; created if missing
    std::string logs_dir;  // each run logs to <logs_dir>/image-runs/<id>
    std::string default_instance_type = "ml.m5.large";
    absl::Duration stop_grace = absl::Seconds(30);  // SIGTERM → SIGKILL on Stop
    uint64_t max_extracted_bytes = 20ull << 30;     // per uploaded archive
  };

  static absl::StatusOr<std::unique_ptr<ImageRunner>> Create(Options options,
                                                             ImageRegistry& registry,
                                                             RootfsCache& rootfs,
                                                             sandbox::ContainerRuntime& runtime,
                                                             const Clock& clock);
  ~ImageRunner();  // stops runs still running

  // Validates the spec and resolves the image (NotFound if the account has no such image).
  absl::StatusOr<ImageRunInfo> CreateRun(std::string_view account_id, ImageRunSpec spec);
  absl::StatusOr<ImageRunInfo> Get(std::string_view account_id, std::string_view id);
  absl::StatusOr<std::vector<ImageRunInfo>> List(std::string_view account_id);

  // Extract an uploaded archive (tar, optionally gzip-compressed) into the Pending run; the
  // file at `archive_path` is the caller's. Only regular files and directories are taken;
  // members that are absolute or contain ".." are refused (InvalidArgument).
  absl::Status PutModelData(std::string_view account_id, std::string_view id,
                            const std::string& archive_path);
  absl::Status PutChannel(std::string_view account_id, std::string_view id,
                          std::string_view channel, const std::string& archive_path);

  absl::StatusOr<ImageRunInfo> Start(std::string_view account_id, std::string_view id);
  absl::StatusOr<ImageRunInfo> Stop(std::string_view account_id, std::string_view id);

  // Log lines from index `since_line` on (at most `max_lines`).
  absl::StatusOr<LogChunk> Logs(std::string_view account_id, std::string_view id,
                                int64_t since_line, size_t max_lines = 5000);
  // The path of model.tar.gz packed from /opt/ml/model of a finished train run
  // (FailedPrecondition before that).
  absl::StatusOr<std::string> ModelArchive(std::string_view account_id, std::string_view id);
  // A socket connected to `port` inside the running instance (the caller owns the fd).
  absl::StatusOr<int> Dial(std::string_view account_id, std::string_view id, int port,
                           absl::Duration timeout);

  // A fresh directory for staging an upload, removed by the caller.
  absl::StatusOr<std::string> MakeUploadDir();

 private:
  struct Run;
  ImageRunner(Options options, ImageRegistry& registry, RootfsCache& rootfs,
              sandbox::ContainerRuntime& runtime, const Clock& clock)
      : options_(std::move(options)),
        registry_(registry),
        rootfs_(rootfs),
        runtime_(runtime),
        clock_(clock) {}
  absl::StatusOr<std::shared_ptr<Run>> Find(std::string_view account_id, std::string_view id);
  void Refresh(Run& run);  // run.mu held
  absl::Status StartLocked(Run& run);

  const Options options_;
  ImageRegistry& registry_;
  RootfsCache& rootfs_;
  sandbox::ContainerRuntime& runtime_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Run>, std::less<>> runs_;
};

}  // namespace mercato::jobs
