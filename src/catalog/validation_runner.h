// PackageValidator: runs the validation profiles of algorithms and model packages as real
// jobs in the seller's own account, and moves each package Pending → InProgress →
// Completed | Failed with its ValidationStatuses.
//
//   algorithm profile:      a training job from the TrainingJobDefinition with the
//                           algorithm's TrainingImage (pinned by digest); then, when the
//                           profile has a TransformJobDefinition, a temporary model from the
//                           training artifacts and the algorithm's first inference container,
//                           and a transform job with it;
//   model package profile:  a temporary model from the package's containers and a transform
//                           job with it.
// Job and model names are derived from the package's ARN, creation time and profile name
// ("val-<10 hex>-<profile>-t|m|x"), and every step is recorded in the package's
// `validation` column before the next, so a restarted validator picks up where it stopped
// (creating an already existing job or model counts as done). A failed or stopped job
// fails its profile with the job's FailureReason. Temporary models are deleted when their
// transform job ends, and when a package being validated is deleted (status Deleting, then
// the row goes).
//
// Threading: Start() runs one background thread that polls every `poll_interval` (or when
// Wake() is called); Step() does one pass and may be called directly by tests instead.
// Times recorded come from the Clock only. Stop() joins the thread; idempotent.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/json.h"
#include "catalog/package_service.h"

namespace mercato::catalog {

// The jobs a validation runs, as SageMaker actions in the seller's account (SageMaker's
// request and Describe shapes). Create* must treat an existing resource of the same name as
// success (validation resumes after restarts). DeleteModel of a missing model is OK.
// Implementations are thread-safe.
class ValidationBackend {
 public:
  virtual ~ValidationBackend() = default;
  virtual absl::Status CreateTrainingJob(std::string_view account, const Json& request) = 0;
  virtual absl::StatusOr<Json> DescribeTrainingJob(std::string_view account,
                                                   std::string_view name) = 0;
  virtual absl::Status CreateModel(std::string_view account, const Json& request) = 0;
  virtual absl::Status DeleteModel(std::string_view account, std::string_view name) = 0;
  virtual absl::Status CreateTransformJob(std::string_view account, const Json& request) = 0;
  virtual absl::StatusOr<Json> DescribeTransformJob(std::string_view account,
                                                    std::string_view name) = 0;
};

struct ValidatorOptions {
  absl::Duration poll_interval = absl::Milliseconds(500);
};

class PackageValidator {
 public:
  PackageValidator(PackageService& packages, ValidationBackend& backend,
                   ValidatorOptions options = {});
  ~PackageValidator();

  void Start();
  void Stop();
  // Asks the thread for a pass now (e.g. a package was just created).
  void Wake();
  // One pass over every package that is Pending, InProgress or Deleting.
  absl::Status Step();

 private:
  absl::Status Advance(PackageRecord& r);
  // Advances one profile; true when it changed.
  bool AdvanceProfile(const PackageRecord& r, const Json& definition, Json& profile);
  bool AdvanceTraining(const PackageRecord& r, const Json& definition, Json& profile);
  bool StartTransform(const PackageRecord& r, const Json& definition, Json model, Json& profile);
  bool AdvanceTransform(const PackageRecord& r, Json& profile);
  void Finish(const PackageRecord& r, Json& profile, std::string_view status,
              std::string_view reason);
  // The image reference of a resolved image entry (_Images/_Containers), pinned by digest.
  std::string PinnedImage(const Json& image) const;
  void Loop();

  PackageService& packages_;
  ValidationBackend& backend_;
  const ValidatorOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace mercato::catalog
