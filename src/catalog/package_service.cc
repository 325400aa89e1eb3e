// PackageService: lookups, Describe, image resolution and scan statuses shared by the
// algorithm (algorithm_service.cc) and model package (model_package_service.cc) actions.
#include "catalog/package_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "base/ids.h"
#include "base/status.h"
#include "catalog/package_spec.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

const char* What(std::string_view kind) {
  return kind == kAlgorithmKind ? "Algorithm" : "ModelPackage";
}

}  // namespace

PackageService::PackageService(MetadataStore& store, ImageRegistry& images, const Clock& clock,
                               PackageServiceOptions options)
    : records_(store), images_(images), clock_(clock), options_(std::move(options)) {}

std::string PackageService::Arn(std::string_view account, std::string_view type,
                                std::string_view name) const {
  return MakeArn("sagemaker", options_.region, account, type, Lower(name));
}

absl::StatusOr<PackageRecord> PackageService::Find(std::string_view kind,
                                                   std::string_view name_or_arn,
                                                   std::string_view account) {
  const char* what = kind.empty() ? "Package" : What(kind);
  if (name_or_arn.starts_with("arn:")) {
    ASSIGN_OR_RETURN(auto r, records_.GetByArn(Lower(name_or_arn)));
    if (!r || (!kind.empty() && r->kind != kind)) return NotFoundError(what, name_or_arn);
    return std::move(*r);
  }
  for (std::string_view k :
       {std::string_view(kAlgorithmKind), std::string_view(kModelPackageKind)}) {
    if (!kind.empty() && k != kind) continue;
    ASSIGN_OR_RETURN(auto r, records_.Get(account, k, name_or_arn));
    if (r) return std::move(*r);
  }
  return NotFoundError(what, name_or_arn);
}

Json PackageService::Describe(const PackageRecord& r) const {
  Json out = Json::object();
  for (auto it = r.spec.begin(); it != r.spec.end(); ++it) {
    if (it.key().starts_with("_") || it.key() == "Tags" || it.key() == "ClientToken") continue;
    out[it.key()] = it.value();
  }
  out["CreationTime"] = Seconds(r.created_at);
  out["CertifyForMarketplace"] = r.spec.value("CertifyForMarketplace", false);
  Json details = r.details;
  if (!details.contains("ValidationStatuses")) details["ValidationStatuses"] = Json::array();
  if (r.kind == kAlgorithmKind) {
    out["AlgorithmName"] = r.name;
    out["AlgorithmArn"] = r.arn;
    out["AlgorithmStatus"] = r.status;
    out["AlgorithmStatusDetails"] = details;
  } else {
    out.erase("ModelPackageGroupName");
    out["ModelPackageName"] = r.group_name.empty() ? r.name : r.group_name;
    if (!r.group_name.empty()) {
      out["ModelPackageGroupName"] = r.group_name;
      out["ModelPackageVersion"] = r.version;
    }
    out["ModelPackageArn"] = r.arn;
    out["ModelPackageStatus"] = r.status;
    out["ModelPackageStatusDetails"] = details;
    out["LastModifiedTime"] = Seconds(r.last_modified);
  }
  return out;
}

absl::StatusOr<Json> PackageService::DescribeFor(std::string_view kind, std::string_view account,
                                                 std::string_view name_or_arn) {
  ASSIGN_OR_RETURN(PackageRecord r, Find(kind, name_or_arn, account));
  if (r.account_id == account) return Describe(r);
  // Another account's: visible (publicly) only when the marketplace says so; otherwise it is
  // indistinguishable from a missing one.
  if (options_.can_view && options_.can_view(account, r.arn).ok()) {
    return PublicView(Describe(r));
  }
  return NotFoundError(What(kind), name_or_arn);
}

absl::StatusOr<Json> PackageService::ResolveImage(std::string_view account,
                                                  std::string_view reference) {
  auto image = images_.Describe(account, reference);
  if (!image.ok()) {
    if (image.status().code() == absl::StatusCode::kNotFound ||
        image.status().code() == absl::StatusCode::kInvalidArgument) {
      return Invalid(fmt::format("Image '{}' is not in this account's image registry: {}",
                                 reference, std::string(image.status().message())));
    }
    return image.status();
  }
  return Json{{"Image", std::string(reference)},
              {"ImageAccount", std::string(account)},
              {"ImageRepository", image->repository},
              {"ImageDigest", image->digest}};
}

Json PackageService::ScanStatuses(const Json& spec) {
  Json out = Json::array();
  std::set<std::string> seen;
  for (const Json& img : spec.value("_Images", Json::array())) {
    const std::string account = img.value("ImageAccount", "");
    const std::string ref = img.value("ImageRepository", "") + "@" + img.value("ImageDigest", "");
    if (!seen.insert(account + "/" + ref).second) continue;
    Json item = {{"Name", img.value("Image", "")}};
    auto rec = images_.Describe(account, ref);
    if (!rec.ok()) {
      item["Status"] = kFailed;
      item["FailureReason"] =
          fmt::format("image not found: {}", std::string(rec.status().message()));
    } else if (rec->scan_status == "PASSED") {
      item["Status"] = kCompleted;
    } else {
      item["Status"] = kFailed;
      std::vector<std::string> high;
      for (const Json& f : rec->scan_report.value("findings", Json::array())) {
        if (f.value("severity", "") != "HIGH") continue;
        if (high.size() < 5) {
          high.push_back(fmt::format("{} at {} (layer {})", f.value("rule", ""),
                                     f.value("path", ""), f.value("layer", 0)));
        }
      }
      item["FailureReason"] = rec->scan_status == "BLOCKED"
                                  ? fmt::format("high-severity findings: {}", fmt::join(high, "; "))
                                  : fmt::format("image scan {}", rec->scan_status);
    }
    out.push_back(std::move(item));
  }
  return out;
}

void PackageService::InitStatus(PackageRecord& r, const Json& validation_spec) {
  Json statuses = Json::array();
  Json profiles = Json::array();
  for (const Json& p : validation_spec.value("ValidationProfiles", Json::array())) {
    statuses.push_back({{"Name", p.value("ProfileName", "")}, {"Status", "NotStarted"}});
    profiles.push_back({{"Name", p.value("ProfileName", "")}, {"Stage", "NotStarted"}});
  }
  r.status = profiles.empty() ? kCompleted : kPending;
  r.details = {{"ValidationStatuses", statuses}, {"ImageScanStatuses", ScanStatuses(r.spec)}};
  r.validation = {{"profiles", profiles}};
}

absl::StatusOr<Json> PackageService::DeleteRecord(PackageRecord r) {
  bool resources_up = false;
  for (const Json& p : r.validation.value("profiles", Json::array())) {
    if (p.contains("Model") && !p.value("ModelDeleted", false)) resources_up = true;
  }
  if (resources_up && r.status != kDeleting) {
    r.status = kDeleting;
    r.last_modified = absl::ToUnixMicros(clock_.Now());
    RETURN_IF_ERROR(records_.Update(r));
    if (options_.changed) options_.changed();
  } else if (!resources_up) {
    RETURN_IF_ERROR(records_.Delete(r.arn));
  }
  return Json::object();
}

absl::StatusOr<Json> PackageService::Lookup(std::string_view name_or_arn, std::string_view caller) {
  ASSIGN_OR_RETURN(PackageRecord r, Find("", name_or_arn, caller));
  Json containers = Json::array();
  for (const Json& c : r.spec.value("_Containers", Json::array())) {
    Json out = {{"Image", c.value("Image", "")},
                {"ImageAccount", c.value("ImageAccount", "")},
                {"ImageDigest", c.value("ImageDigest", "")}};
    for (const char* k : {"ModelDataUrl", "ModelDataAccount", "Environment"}) {
      if (c.contains(k)) out[k] = c[k];
    }
    containers.push_back(std::move(out));
  }
  Json marketplace = Json::array();
  if (r.spec.contains("_SourceAlgorithm")) {
    const Json& a = r.spec["_SourceAlgorithm"];
    if (a.value("Account", "") != r.account_id) marketplace.push_back(a.value("Arn", ""));
  }
  return Json{{"Kind", r.kind},           {"Arn", r.arn},
              {"Account", r.account_id},  {"Describe", Describe(r)},
              {"Containers", containers}, {"MarketplaceArns", marketplace}};
}

}  // namespace mercato::catalog
