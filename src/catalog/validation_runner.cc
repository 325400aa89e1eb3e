#include "catalog/validation_runner.h"

#include "absl/strings/ascii.h"
#include "base/crypto.h"
#include "base/status.h"
#include "commerce/marketplace_rules.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato::catalog {
namespace {

// Stages of a profile's progress.
constexpr char kNotStarted[] = "NotStarted";
constexpr char kTraining[] = "Training";
constexpr char kTransform[] = "Transform";
constexpr char kDone[] = "Done";

// "val-<10 hex>-<profile>": unique per package incarnation, valid as a SageMaker name, short
// enough for a suffix.
std::string BaseName(const PackageRecord& r, std::string_view profile) {
  std::string hash = Sha256Hex(fmt::format("{}|{}", r.arn, r.created_at)).substr(0, 10);
  std::string p = absl::AsciiStrToLower(std::string(profile)).substr(0, 40);
  while (!p.empty() && p.back() == '-') p.pop_back();
  return fmt::format("val-{}-{}", hash, p.empty() ? "p" : p);
}

bool Settled(std::string_view job_status) {
  return job_status == "Completed" || job_status == "Failed" || job_status == "Stopped";
}

std::string JobFailure(std::string_view what, std::string_view name, const Json& d) {
  std::string reason = d.value("FailureReason", "");
  if (reason.empty())
    reason = fmt::format("the job ended {}",
                         d.value("TrainingJobStatus", d.value("TransformJobStatus", "")));
  return fmt::format("{} {} failed: {}", what, name, reason);
}

// Copies the members of a job definition that a Create*Job request takes.
void CopyMembers(const Json& from, Json& to, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (from.contains(k)) to[k] = from[k];
  }
}

}  // namespace

PackageValidator::PackageValidator(PackageService& packages, ValidationBackend& backend,
                                   ValidatorOptions options)
    : packages_(packages), backend_(backend), options_(options) {}

PackageValidator::~PackageValidator() { Stop(); }

void PackageValidator::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void PackageValidator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PackageValidator::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PackageValidator::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                 [this] { return stop_ || woken_; });
    if (stop_) break;
    woken_ = false;
    lock.unlock();
    absl::Status s = Step();
    if (!s.ok()) spdlog::warn("package validation pass: {}", s.ToString());
    lock.lock();
  }
}

absl::Status PackageValidator::Step() {
  ASSIGN_OR_RETURN(auto records, packages_.records().Unsettled());
  absl::Status first;
  for (PackageRecord& r : records) {
    absl::Status s = Advance(r);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

std::string PackageValidator::PinnedImage(const Json& image) const {
  return packages_.images().ImageUri(image.value("ImageAccount", ""),
                                     image.value("ImageRepository", ""),
                                     image.value("ImageDigest", ""));
}

absl::Status PackageValidator::Advance(PackageRecord& r) {
  const std::string before = r.status;
  Json& profiles = r.validation["profiles"];
  if (!profiles.is_array()) profiles = Json::array();
  if (r.status == kDeleting) {
    for (Json& p : profiles) {
      if (p.contains("Model") && !p.value("ModelDeleted", false)) {
        RETURN_IF_ERROR(backend_.DeleteModel(r.account_id, p["Model"].get<std::string>()));
        p["ModelDeleted"] = true;
      }
    }
    return packages_.records().Delete(r.arn);
  }
  const Json definitions = r.spec.value("ValidationSpecification", Json::object())
                               .value("ValidationProfiles", Json::array());
  bool changed = false;
  bool all_done = true;
  bool any_failed = false;
  for (Json& p : profiles) {
    Json definition;
    for (const Json& d : definitions) {
      if (d.value("ProfileName", "") == p.value("Name", "")) definition = d;
    }
    if (p.value("Stage", "") != kDone) {
      if (definition.is_null()) {
        Finish(r, p, kFailed, "the validation profile is missing from the specification");
        changed = true;
      } else {
        changed |= AdvanceProfile(r, definition, p);
      }
    }
    if (p.value("Stage", "") != kDone) all_done = false;
    if (p.value("Status", "") == kFailed) any_failed = true;
  }
  if (r.status == kPending) {
    r.status = kInProgress;
    changed = true;
  }
  if (all_done) {
    r.status = any_failed ? kFailed : kCompleted;
    changed = true;
  }
  // Mirror the profiles into ValidationStatuses.
  Json statuses = Json::array();
  for (const Json& p : profiles) {
    Json item = {{"Name", p.value("Name", "")}, {"Status", p.value("Status", kNotStarted)}};
    if (p.contains("FailureReason")) item["FailureReason"] = p["FailureReason"];
    statuses.push_back(std::move(item));
  }
  r.details["ValidationStatuses"] = statuses;
  if (!changed) return absl::OkStatus();
  r.last_modified = absl::ToUnixMicros(packages_.clock().Now());
  ASSIGN_OR_RETURN(bool written, packages_.records().UpdateIf(r, before));
  if (!written) spdlog::info("package {} changed during validation; retrying", r.arn);
  return absl::OkStatus();
}

bool PackageValidator::AdvanceProfile(const PackageRecord& r, const Json& definition,
                                      Json& profile) {
  const std::string stage = profile.value("Stage", kNotStarted);
  const std::string base = BaseName(r, profile.value("Name", ""));
  if (stage == kNotStarted) {
    if (r.kind == kAlgorithmKind) {
      const Json& def = definition["TrainingJobDefinition"];
      const std::string name = base + "-t";
      Json req = {{"TrainingJobName", name},
                  {"AlgorithmSpecification",
                   {{"TrainingImage", PinnedImage(r.spec["_TrainingImage"])},
                    {"TrainingInputMode", def.value("TrainingInputMode", "File")}}},
                  {"RoleArn", r.spec["ValidationSpecification"].value("ValidationRole", "")}};
      const Json metrics =
          r.spec["TrainingSpecification"].value("MetricDefinitions", Json::array());
      if (!metrics.empty()) req["AlgorithmSpecification"]["MetricDefinitions"] = metrics;
      CopyMembers(def, req,
                  {"HyperParameters", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
                   "StoppingCondition"});
      // The profile trains exactly as a buyer would: checked against the algorithm's own
      // specification, with its declared hyperparameter defaults.
      auto resolved = commerce::ResolveAlgorithmTraining(
          req, r.spec["TrainingSpecification"], r.name,
          req["AlgorithmSpecification"]["TrainingImage"].get<std::string>());
      absl::Status s = resolved.status();
      if (resolved.ok()) {
        s = backend_.CreateTrainingJob(r.account_id, *resolved);
      }
      if (!s.ok()) {
        Finish(r, profile, kFailed,
               fmt::format("CreateTrainingJob failed: {}", std::string(s.message())));
        return true;
      }
      profile["TrainingJob"] = name;
      profile["Stage"] = kTraining;
      profile["Status"] = kInProgress;
      return true;
    }
    Json containers = Json::array();
    for (const Json& c : r.spec.value("_Containers", Json::array())) {
      Json container = {{"Image", PinnedImage(c)}};
      CopyMembers(c, container, {"ModelDataUrl", "Environment"});
      containers.push_back(std::move(container));
    }
    Json model = containers.size() == 1 ? Json{{"PrimaryContainer", containers[0]}}
                                        : Json{{"Containers", containers}};
    profile["Status"] = kInProgress;
    return StartTransform(r, definition, std::move(model), profile);
  }
  if (stage == kTraining) return AdvanceTraining(r, definition, profile);
  if (stage == kTransform) return AdvanceTransform(r, profile);
  return false;
}

bool PackageValidator::AdvanceTraining(const PackageRecord& r, const Json& definition,
                                       Json& profile) {
  const std::string name = profile.value("TrainingJob", "");
  auto d = backend_.DescribeTrainingJob(r.account_id, name);
  if (!d.ok()) {
    if (d.status().code() != absl::StatusCode::kNotFound) return false;  // retry later
    Finish(r, profile, kFailed, fmt::format("training job {} disappeared", name));
    return true;
  }
  const std::string status = d->value("TrainingJobStatus", "");
  if (!Settled(status)) return false;
  if (status != "Completed") {
    Finish(r, profile, kFailed, JobFailure("Training job", name, *d));
    return true;
  }
  if (!definition.contains("TransformJobDefinition")) {
    Finish(r, profile, kCompleted, "");
    return true;
  }
  const Json containers = r.spec.value("_Containers", Json::array());
  if (containers.empty()) {
    Finish(r, profile, kFailed, "the algorithm has no inference container to run a transform");
    return true;
  }
  Json container = {{"Image", PinnedImage(containers[0])}};
  container["ModelDataUrl"] =
      d->value("ModelArtifacts", Json::object()).value("S3ModelArtifacts", "");
  CopyMembers(containers[0], container, {"Environment"});
  return StartTransform(r, definition, Json{{"PrimaryContainer", container}}, profile);
}

bool PackageValidator::StartTransform(const PackageRecord& r, const Json& definition, Json model,
                                      Json& profile) {
  const std::string base = BaseName(r, profile.value("Name", ""));
  const std::string role = r.spec["ValidationSpecification"].value("ValidationRole", "");
  model["ModelName"] = base + "-m";
  model["ExecutionRoleArn"] = role;
  absl::Status s = backend_.CreateModel(r.account_id, model);
  if (!s.ok()) {
    Finish(r, profile, kFailed, fmt::format("CreateModel failed: {}", std::string(s.message())));
    return true;
  }
  profile["Model"] = base + "-m";
  const Json& def = definition["TransformJobDefinition"];
  Json req = {{"TransformJobName", base + "-x"}, {"ModelName", base + "-m"}};
  CopyMembers(def, req,
              {"MaxConcurrentTransforms", "MaxPayloadInMB", "BatchStrategy", "Environment",
               "TransformInput", "TransformOutput", "TransformResources"});
  s = backend_.CreateTransformJob(r.account_id, req);
  if (!s.ok()) {
    Finish(r, profile, kFailed,
           fmt::format("CreateTransformJob failed: {}", std::string(s.message())));
    return true;
  }
  profile["TransformJob"] = base + "-x";
  profile["Stage"] = kTransform;
  return true;
}

bool PackageValidator::AdvanceTransform(const PackageRecord& r, Json& profile) {
  const std::string name = profile.value("TransformJob", "");
  auto d = backend_.DescribeTransformJob(r.account_id, name);
  if (!d.ok()) {
    if (d.status().code() != absl::StatusCode::kNotFound) return false;
    Finish(r, profile, kFailed, fmt::format("transform job {} disappeared", name));
    return true;
  }
  const std::string status = d->value("TransformJobStatus", "");
  if (!Settled(status)) return false;
  if (status == "Completed") {
    Finish(r, profile, kCompleted, "");
  } else {
    Finish(r, profile, kFailed, JobFailure("Transform job", name, *d));
  }
  return true;
}

void PackageValidator::Finish(const PackageRecord& r, Json& profile, std::string_view status,
                              std::string_view reason) {
  profile["Stage"] = kDone;
  profile["Status"] = std::string(status);
  if (!reason.empty()) profile["FailureReason"] = std::string(reason).substr(0, 1024);
  profile["EndTime"] = absl::ToUnixMicros(packages_.clock().Now());
  if (profile.contains("Model") && !profile.value("ModelDeleted", false)) {
    absl::Status s = backend_.DeleteModel(r.account_id, profile["Model"].get<std::string>());
    if (s.ok()) {
      profile["ModelDeleted"] = true;
    } else {
      spdlog::warn("validation of {}: deleting model: {}", r.arn, s.ToString());
    }
  }
}

}  // namespace mercato::catalog
