// Internal to TrainingJobRunner (training_job_runner.cc and training_job_execution.cc): the
// in-memory state of a running job and the helpers that persist it. Not a public header.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "base/json.h"
#include "jobs/training_job_runner.h"
#include "jobs/training_job_spec.h"
#include "store/metadata_store.h"

namespace mercato::jobs {
namespace training_internal {

inline constexpr char kInProgress[] = "InProgress";
inline constexpr char kCompleted[] = "Completed";
inline constexpr char kFailed[] = "Failed";
inline constexpr char kStopping[] = "Stopping";
inline constexpr char kStopped[] = "Stopped";

inline constexpr char kRestartReason[] = "mercatod restarted while the job was running";
inline constexpr char kShutdownReason[] = "mercatod stopped while the job was running";

// The mutable columns of a training_jobs row.
struct JobState {
  std::string status = kInProgress;
  std::string secondary = "Starting";
  std::string failure_reason;
  Json transitions = Json::array();  // [{"Status","StartTime","EndTime"?,"StatusMessage"}] micros
  Json final_metrics = Json::array();
  std::string model_artifacts;
  std::optional<int64_t> training_start;  // micros
  std::optional<int64_t> training_end;
};

// Ends the open transition (if any) at `now` and opens `status`; a terminal one is closed at
// once (EndTime = StartTime), as SageMaker reports the final entry.
void AddTransition(JobState& s, std::string_view status, std::string_view message, int64_t now,
                   bool terminal = false);

// Writes the state into the job's row.
absl::Status SaveState(MetadataStore& store, std::string_view account, std::string_view name,
                       const JobState& s, int64_t now);

}  // namespace training_internal

struct TrainingJobRunner::Job {
  std::string account;
  std::string name;
  std::string arn;
  std::string dir;  // <jobs_dir>/<account>/<name>
  training::TrainingJobSpec spec;
  std::thread thread;
  bool finished = false;  // guarded by the runner's mu_

  std::mutex mu;               // guards everything below
  std::condition_variable cv;  // wakes the job's waits on stop and shutdown
  bool stop_requested = false;
  bool shutdown = false;
  training_internal::JobState state;
};

}  // namespace mercato::jobs
