// PackageService: the algorithm actions.
#include "base/status.h"
#include "catalog/package_service.h"
#include "catalog/package_spec.h"
#include "fmt/format.h"
#include "hosting/list_page.h"

namespace mercato::catalog {
namespace {

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

bool Contains(const Json& list, const Json& value) {
  return list.is_array() && std::find(list.begin(), list.end(), value) != list.end();
}

// The validation profile must run on instance types the algorithm declares.
absl::Status CheckProfileInstanceTypes(const Json& in) {
  const Json& training = in["TrainingSpecification"];
  const Json inference = in.value("InferenceSpecification", Json());
  for (const Json& p : in["ValidationSpecification"]["ValidationProfiles"]) {
    const Json type = p["TrainingJobDefinition"]["ResourceConfig"].value("InstanceType", Json());
    if (!Contains(training["SupportedTrainingInstanceTypes"], type)) {
      return Invalid(fmt::format(
          "Validation profile '{}': training instance type {} is not in "
          "SupportedTrainingInstanceTypes",
          p.value("ProfileName", ""), type.is_string() ? type.get<std::string>() : "(none)"));
    }
    if (!p.contains("TransformJobDefinition")) continue;
    if (inference.is_null()) {
      return Invalid(fmt::format(
          "Validation profile '{}' has a TransformJobDefinition but the algorithm has no "
          "InferenceSpecification",
          p.value("ProfileName", "")));
    }
    const Json t = p["TransformJobDefinition"]["TransformResources"].value("InstanceType", Json());
    if (inference.contains("SupportedTransformInstanceTypes") &&
        !Contains(inference["SupportedTransformInstanceTypes"], t)) {
      return Invalid(
          fmt::format("Validation profile '{}': transform instance type {} is not in "
                      "SupportedTransformInstanceTypes",
                      p.value("ProfileName", ""), t.is_string() ? t.get<std::string>() : "(none)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Json> PackageService::CreateAlgorithm(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in, "AlgorithmName"));
  if (!in.contains("TrainingSpecification")) {
    return Invalid(
        "1 validation error detected: Value null at 'trainingSpecification' failed to satisfy "
        "constraint: Member must not be null");
  }
  RETURN_IF_ERROR(CheckTrainingSpecification(in["TrainingSpecification"]));
  if (in.contains("InferenceSpecification")) {
    RETURN_IF_ERROR(
        CheckInferenceSpecification(in["InferenceSpecification"], "InferenceSpecification"));
  }
  size_t profiles = 0;
  if (in.contains("ValidationSpecification")) {
    ASSIGN_OR_RETURN(profiles, CheckValidationSpecification(in["ValidationSpecification"], true));
    RETURN_IF_ERROR(CheckProfileInstanceTypes(in));
  }
  if (in.contains("CertifyForMarketplace") && !in["CertifyForMarketplace"].is_boolean()) {
    return Invalid("CertifyForMarketplace must be a boolean");
  }
  if (in.value("CertifyForMarketplace", false) && profiles == 0) {
    return Invalid(
        "CertifyForMarketplace requires a ValidationSpecification with a validation profile");
  }
  RETURN_IF_ERROR(OptionalString(in, "AlgorithmDescription").status());
  const std::string arn = Arn(account, "algorithm", name);
  ASSIGN_OR_RETURN(auto existing, records_.Get(account, kAlgorithmKind, name));
  if (existing) {
    return Invalid(fmt::format("Cannot create already existing algorithm \"{}\".", arn));
  }

  Json spec = in;
  spec.erase("Tags");
  ASSIGN_OR_RETURN(
      Json training_image,
      ResolveImage(account, in["TrainingSpecification"]["TrainingImage"].get<std::string>()));
  Json images = Json::array({training_image});
  Json containers = Json::array();
  if (in.contains("InferenceSpecification")) {
    for (const Json& c : in["InferenceSpecification"]["Containers"]) {
      ASSIGN_OR_RETURN(Json image, ResolveImage(account, c["Image"].get<std::string>()));
      images.push_back(image);
      if (c.contains("ModelDataUrl")) {
        image["ModelDataUrl"] = c["ModelDataUrl"];
        image["ModelDataAccount"] = std::string(account);
      }
      if (c.contains("Environment")) image["Environment"] = c["Environment"];
      containers.push_back(std::move(image));
    }
  }
  spec["_TrainingImage"] = training_image;
  spec["_Images"] = images;
  spec["_Containers"] = containers;

  PackageRecord r;
  r.account_id = std::string(account);
  r.kind = kAlgorithmKind;
  r.name = name;
  r.arn = arn;
  r.spec = std::move(spec);
  r.created_at = r.last_modified = absl::ToUnixMicros(clock_.Now());
  InitStatus(r, in.value("ValidationSpecification", Json::object()));
  absl::Status inserted = records_.Insert(r);
  if (absl::IsAlreadyExists(inserted)) {
    return Invalid(fmt::format("Cannot create already existing algorithm \"{}\".", arn));
  }
  RETURN_IF_ERROR(inserted);
  if (r.status == kPending && options_.changed) options_.changed();
  return Json{{"AlgorithmArn", arn}};
}

absl::StatusOr<Json> PackageService::DescribeAlgorithm(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, OptionalString(in, "AlgorithmName"));
  if (name.empty()) return Invalid("AlgorithmName is required");
  return DescribeFor(kAlgorithmKind, account, name);
}

absl::StatusOr<Json> PackageService::ListAlgorithms(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(auto records, records_.List(account, kAlgorithmKind));
  std::vector<hosting::internal::ListItem> items;
  for (const PackageRecord& r : records) {
    Json summary = {{"AlgorithmName", r.name},
                    {"AlgorithmArn", r.arn},
                    {"CreationTime", Seconds(r.created_at)},
                    {"AlgorithmStatus", r.status}};
    if (r.spec.contains("AlgorithmDescription")) {
      summary["AlgorithmDescription"] = r.spec["AlgorithmDescription"];
    }
    items.push_back({r.name, r.created_at, r.last_modified, r.status, std::move(summary)});
  }
  return hosting::internal::PageOf(std::move(items), in, "AlgorithmSummaryList", "CreationTime");
}

absl::StatusOr<Json> PackageService::DeleteAlgorithm(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, OptionalString(in, "AlgorithmName"));
  if (name.empty()) return Invalid("AlgorithmName is required");
  ASSIGN_OR_RETURN(PackageRecord r, Find(kAlgorithmKind, name, account));
  if (r.account_id != account) return NotFoundError("Algorithm", name);
  return DeleteRecord(std::move(r));
}

}  // namespace mercato::catalog
