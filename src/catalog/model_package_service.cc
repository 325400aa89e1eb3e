// PackageService: the model package and model package group actions.
#include "base/status.h"
#include "catalog/package_service.h"
#include "catalog/package_spec.h"
#include "fmt/format.h"
#include "hosting/list_page.h"

namespace mercato::catalog {
namespace {

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

// "arn:...:model-package-group/NAME" or "NAME" → NAME.
std::string GroupName(std::string_view name_or_arn) {
  if (!name_or_arn.starts_with("arn:")) return std::string(name_or_arn);
  size_t slash = name_or_arn.rfind('/');
  return std::string(name_or_arn.substr(slash == std::string_view::npos ? 0 : slash + 1));
}

absl::Status CheckApprovalStatus(const Json& in) {
  if (!in.contains("ModelApprovalStatus")) return absl::OkStatus();
  const Json& s = in["ModelApprovalStatus"];
  if (s != "Approved" && s != "Rejected" && s != "PendingManualApproval") {
    return Invalid("ModelApprovalStatus must be one of Approved, Rejected, PendingManualApproval");
  }
  return absl::OkStatus();
}

absl::Status CheckMap(const Json& in, std::string_view field) {
  if (!in.contains(std::string(field))) return absl::OkStatus();
  const Json& m = in[std::string(field)];
  if (!m.is_object()) return Invalid(fmt::format("{} must be a map of strings", field));
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string()) return Invalid(fmt::format("{} must be a map of strings", field));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Json> PackageService::CreateModelPackage(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string group_ref, OptionalString(in, "ModelPackageGroupName"));
  std::string name;
  if (group_ref.empty()) {
    ASSIGN_OR_RETURN(name, RequiredName(in, "ModelPackageName"));
  } else if (in.contains("ModelPackageName")) {
    return Invalid(
        "ModelPackageName cannot be given for a versioned model package "
        "(ModelPackageGroupName)");
  }
  const bool has_inference = in.contains("InferenceSpecification");
  const bool has_source = in.contains("SourceAlgorithmSpecification");
  if (!has_inference && !has_source) {
    return Invalid("Either InferenceSpecification or SourceAlgorithmSpecification is required");
  }
  if (has_inference) {
    RETURN_IF_ERROR(
        CheckInferenceSpecification(in["InferenceSpecification"], "InferenceSpecification"));
  }
  if (has_source) {
    RETURN_IF_ERROR(CheckSourceAlgorithmSpecification(in["SourceAlgorithmSpecification"]));
  }
  size_t profiles = 0;
  if (in.contains("ValidationSpecification")) {
    ASSIGN_OR_RETURN(profiles, CheckValidationSpecification(in["ValidationSpecification"], false));
  }
  if (in.contains("CertifyForMarketplace") && !in["CertifyForMarketplace"].is_boolean()) {
    return Invalid("CertifyForMarketplace must be a boolean");
  }
  if (in.value("CertifyForMarketplace", false) && profiles == 0) {
    return Invalid(
        "CertifyForMarketplace requires a ValidationSpecification with a validation profile");
  }
  RETURN_IF_ERROR(CheckApprovalStatus(in));
  RETURN_IF_ERROR(CheckMap(in, "CustomerMetadataProperties"));
  RETURN_IF_ERROR(OptionalString(in, "ModelPackageDescription").status());

  // Containers the package runs, resolved now so validation and escrow use what was checked.
  Json images = Json::array();
  Json containers = Json::array();
  Json source_algorithm;
  if (has_inference) {
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
  } else {
    const Json& src = in["SourceAlgorithmSpecification"]["SourceAlgorithms"][0];
    const std::string algo_ref = src["AlgorithmName"].get<std::string>();
    auto algo = Find(kAlgorithmKind, algo_ref, account);
    if (algo.ok() && algo->account_id != account &&
        !(options_.can_view && options_.can_view(account, algo->arn).ok())) {
      algo = NotFoundError("Algorithm", algo_ref);
    }
    if (!algo.ok()) {
      return Invalid(fmt::format("SourceAlgorithms: {}", std::string(algo.status().message())));
    }
    if (algo->status == kFailed || algo->status == kDeleting) {
      return Invalid(fmt::format("SourceAlgorithms: algorithm {} is {}", algo_ref, algo->status));
    }
    if (algo->spec.value("_Containers", Json::array()).empty()) {
      return Invalid(
          fmt::format("SourceAlgorithms: algorithm {} has no InferenceSpecification", algo_ref));
    }
    for (Json c : algo->spec["_Containers"]) {
      c["ModelDataUrl"] = src["ModelDataUrl"];
      c["ModelDataAccount"] = std::string(account);
      // The algorithm's own images count for this package's scan only when they are the
      // seller's; a marketplace algorithm was scanned when it was listed.
      if (algo->account_id == account) images.push_back(c);
      containers.push_back(std::move(c));
    }
    source_algorithm = {{"Arn", algo->arn}, {"Account", algo->account_id}};
  }

  PackageRecord r;
  r.account_id = std::string(account);
  r.kind = kModelPackageKind;
  r.spec = in;
  r.spec.erase("Tags");
  r.spec["_Images"] = images;
  r.spec["_Containers"] = containers;
  if (!source_algorithm.is_null()) r.spec["_SourceAlgorithm"] = source_algorithm;
  if (!group_ref.empty()) {
    const std::string group = GroupName(group_ref);
    ASSIGN_OR_RETURN(auto g, records_.GetGroup(account, group));
    if (!g) return Invalid(fmt::format("Model Package Group {} does not exist.", group));
    ASSIGN_OR_RETURN(r.version, records_.NextVersion(account, group));
    r.group_name = group;
    r.name = fmt::format("{}/{}", group, r.version);
    r.spec["ModelPackageGroupName"] = group;
    if (!r.spec.contains("ModelApprovalStatus")) {
      r.spec["ModelApprovalStatus"] = "PendingManualApproval";
    }
  } else {
    r.name = name;
  }
  r.arn = Arn(account, "model-package", r.name);
  r.created_at = r.last_modified = absl::ToUnixMicros(clock_.Now());
  InitStatus(r, in.value("ValidationSpecification", Json::object()));
  absl::Status inserted = records_.Insert(r);
  if (absl::IsAlreadyExists(inserted)) {
    return Invalid(fmt::format("Cannot create already existing model package \"{}\".", r.arn));
  }
  RETURN_IF_ERROR(inserted);
  if (r.status == kPending && options_.changed) options_.changed();
  return Json{{"ModelPackageArn", r.arn}};
}

absl::StatusOr<Json> PackageService::DescribeModelPackage(std::string_view account,
                                                          const Json& in) {
  ASSIGN_OR_RETURN(std::string name, OptionalString(in, "ModelPackageName"));
  if (name.empty()) return Invalid("ModelPackageName is required");
  return DescribeFor(kModelPackageKind, account, name);
}

absl::StatusOr<Json> PackageService::ListModelPackages(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string group_ref, OptionalString(in, "ModelPackageGroupName"));
  ASSIGN_OR_RETURN(std::string type, OptionalString(in, "ModelPackageType"));
  if (type.empty()) type = group_ref.empty() ? "Unversioned" : "Versioned";
  if (type != "Versioned" && type != "Unversioned" && type != "Both") {
    return Invalid("ModelPackageType must be one of Versioned, Unversioned, Both");
  }
  RETURN_IF_ERROR(CheckApprovalStatus(in));
  const std::string group = GroupName(group_ref);
  ASSIGN_OR_RETURN(auto records, records_.List(account, kModelPackageKind, group));
  std::vector<hosting::internal::ListItem> items;
  for (const PackageRecord& r : records) {
    const bool versioned = !r.group_name.empty();
    if ((type == "Versioned" && !versioned) || (type == "Unversioned" && versioned)) continue;
    if (in.contains("ModelApprovalStatus") &&
        r.spec.value("ModelApprovalStatus", Json()) != in["ModelApprovalStatus"]) {
      continue;
    }
    Json summary = {{"ModelPackageName", versioned ? r.group_name : r.name},
                    {"ModelPackageArn", r.arn},
                    {"CreationTime", Seconds(r.created_at)},
                    {"ModelPackageStatus", r.status}};
    if (versioned) {
      summary["ModelPackageGroupName"] = r.group_name;
      summary["ModelPackageVersion"] = r.version;
    }
    for (const char* k : {"ModelPackageDescription", "ModelApprovalStatus"}) {
      if (r.spec.contains(k)) summary[k] = r.spec[k];
    }
    items.push_back({r.name, r.created_at, r.last_modified, r.status, std::move(summary)});
  }
  Json page_in = in;
  page_in.erase("ModelApprovalStatus");
  return hosting::internal::PageOf(std::move(items), page_in, "ModelPackageSummaryList",
                                   "CreationTime");
}

absl::StatusOr<Json> PackageService::UpdateModelPackage(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string arn, OptionalString(in, "ModelPackageArn"));
  if (arn.empty()) return Invalid("ModelPackageArn is required");
  ASSIGN_OR_RETURN(PackageRecord r, Find(kModelPackageKind, arn, account));
  if (r.account_id != account) return NotFoundError("ModelPackage", arn);
  for (const char* k : {"InferenceSpecification", "AdditionalInferenceSpecificationsToAdd"}) {
    if (in.contains(k)) {
      return Invalid(fmt::format("{} cannot be updated: create a new model package version", k));
    }
  }
  RETURN_IF_ERROR(CheckApprovalStatus(in));
  RETURN_IF_ERROR(CheckMap(in, "CustomerMetadataProperties"));
  RETURN_IF_ERROR(OptionalString(in, "ApprovalDescription").status());
  for (const char* k : {"ModelApprovalStatus", "ApprovalDescription", "SourceUri", "ModelCard",
                        "ModelLifeCycle", "ModelPackageRegistrationType"}) {
    if (in.contains(k)) r.spec[k] = in[k];
  }
  if (in.contains("CustomerMetadataProperties")) {
    if (!r.spec.contains("CustomerMetadataProperties")) {
      r.spec["CustomerMetadataProperties"] = Json::object();
    }
    r.spec["CustomerMetadataProperties"].update(in["CustomerMetadataProperties"]);
  }
  if (in.contains("CustomerMetadataPropertiesToRemove") &&
      r.spec.contains("CustomerMetadataProperties")) {
    if (!in["CustomerMetadataPropertiesToRemove"].is_array()) {
      return Invalid("CustomerMetadataPropertiesToRemove must be a list of keys");
    }
    for (const Json& key : in["CustomerMetadataPropertiesToRemove"]) {
      if (key.is_string()) r.spec["CustomerMetadataProperties"].erase(key.get<std::string>());
    }
  }
  r.last_modified = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(records_.Update(r));
  return Json{{"ModelPackageArn", r.arn}};
}

absl::StatusOr<Json> PackageService::DeleteModelPackage(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, OptionalString(in, "ModelPackageName"));
  if (name.empty()) return Invalid("ModelPackageName is required");
  ASSIGN_OR_RETURN(PackageRecord r, Find(kModelPackageKind, name, account));
  if (r.account_id != account) return NotFoundError("ModelPackage", name);
  return DeleteRecord(std::move(r));
}

absl::StatusOr<Json> PackageService::CreateModelPackageGroup(std::string_view account,
                                                             const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in, "ModelPackageGroupName"));
  ASSIGN_OR_RETURN(std::string description, OptionalString(in, "ModelPackageGroupDescription"));
  GroupRecord g{std::string(account), name, Arn(account, "model-package-group", name),
                description,          1,    absl::ToUnixMicros(clock_.Now())};
  absl::Status inserted = records_.InsertGroup(g);
  if (absl::IsAlreadyExists(inserted)) {
    return Invalid(fmt::format("Model Package Group already exists: {}", g.arn));
  }
  RETURN_IF_ERROR(inserted);
  return Json{{"ModelPackageGroupArn", g.arn}};
}

namespace {
Json GroupJson(const GroupRecord& g) {
  Json out = {{"ModelPackageGroupName", g.name},
              {"ModelPackageGroupArn", g.arn},
              {"CreationTime", Seconds(g.created_at)},
              {"ModelPackageGroupStatus", "Completed"}};
  if (!g.description.empty()) out["ModelPackageGroupDescription"] = g.description;
  return out;
}
}  // namespace

absl::StatusOr<Json> PackageService::DescribeModelPackageGroup(std::string_view account,
                                                               const Json& in) {
  ASSIGN_OR_RETURN(std::string ref, OptionalString(in, "ModelPackageGroupName"));
  if (ref.empty()) return Invalid("ModelPackageGroupName is required");
  ASSIGN_OR_RETURN(auto g, records_.GetGroup(account, GroupName(ref)));
  if (!g) return NotFoundError("ModelPackageGroup", ref);
  Json out = GroupJson(*g);
  out["CreatedBy"] = Json::object();
  return out;
}

absl::StatusOr<Json> PackageService::ListModelPackageGroups(std::string_view account,
                                                            const Json& in) {
  ASSIGN_OR_RETURN(auto groups, records_.ListGroups(account));
  std::vector<hosting::internal::ListItem> items;
  for (const GroupRecord& g : groups) {
    items.push_back({g.name, g.created_at, g.created_at, "Completed", GroupJson(g)});
  }
  Json page_in = in;
  page_in.erase("CrossAccountFilterOption");
  return hosting::internal::PageOf(std::move(items), page_in, "ModelPackageGroupSummaryList",
                                   "CreationTime");
}

absl::StatusOr<Json> PackageService::DeleteModelPackageGroup(std::string_view account,
                                                             const Json& in) {
  ASSIGN_OR_RETURN(std::string ref, OptionalString(in, "ModelPackageGroupName"));
  if (ref.empty()) return Invalid("ModelPackageGroupName is required");
  const std::string name = GroupName(ref);
  ASSIGN_OR_RETURN(auto g, records_.GetGroup(account, name));
  if (!g) return NotFoundError("ModelPackageGroup", ref);
  ASSIGN_OR_RETURN(auto versions, records_.List(account, kModelPackageKind, name));
  if (!versions.empty()) {
    return Invalid(fmt::format(
        "Model Package Group {} still has {} model package version(s); delete them first", name,
        versions.size()));
  }
  RETURN_IF_ERROR(records_.DeleteGroup(account, name));
  return Json::object();
}

}  // namespace mercato::catalog
