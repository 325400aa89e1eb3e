#include "catalog/package_escrow.h"

#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "catalog/package_spec.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

std::string DisplayName(const PackageRecord& r) {
  return r.group_name.empty() ? r.name : fmt::format("{} version {}", r.group_name, r.version);
}

// The copies made for one escrow, numbered in the order they are made.
struct Copier {
  PackageService& packages;
  storage::ObjectStore& objects;
  const EscrowOptions& options;
  std::string seller;
  std::string name;                    // escrow name
  std::map<std::string, Json> images;  // seller digest → escrowed image entry
  std::vector<std::string> image_digests;
  std::vector<std::string> data_digests;
  int images_made = 0;
  int data_made = 0;
  bool bucket_ready = false;

  // The escrowed {"Image","ImageAccount","ImageRepository","ImageDigest"} of an image entry;
  // entries of other accounts (marketplace algorithms) stay as they are.
  absl::StatusOr<Json> Image(const Json& img) {
    Json fields = {{"Image", img.value("Image", "")},
                   {"ImageAccount", img.value("ImageAccount", "")},
                   {"ImageRepository", img.value("ImageRepository", "")},
                   {"ImageDigest", img.value("ImageDigest", "")}};
    if (fields["ImageAccount"] != seller) return fields;
    const std::string digest = fields["ImageDigest"];
    if (auto it = images.find(digest); it != images.end()) return it->second;
    const std::string repo = "escrow/" + absl::AsciiStrToLower(name);
    ASSIGN_OR_RETURN(
        ImageRecord rec,
        packages.images().CopyTo(
            seller, fmt::format("{}@{}", fields["ImageRepository"].get<std::string>(), digest),
            options.account, fmt::format("{}:{}", repo, ++images_made)));
    Json out = {{"Image", packages.images().ImageUri(options.account, rec.repository, rec.digest)},
                {"ImageAccount", options.account},
                {"ImageRepository", rec.repository},
                {"ImageDigest", rec.digest}};
    images[digest] = out;
    image_digests.push_back(rec.digest);
    return out;
  }

  // A resolved container with its image and model data copied.
  absl::StatusOr<Json> Container(const Json& c) {
    Json out = c;
    ASSIGN_OR_RETURN(Json image, Image(c));
    out.update(image);
    if (c.contains("ModelDataUrl") && c.value("ModelDataAccount", "") == seller) {
      ASSIGN_OR_RETURN(storage::S3Uri uri,
                       storage::ObjectStore::ParseS3Uri(c["ModelDataUrl"].get<std::string>()));
      if (!bucket_ready) {
        RETURN_IF_ERROR(objects.EnsureBucket(options.account, options.bucket, options.region));
        bucket_ready = true;
      }
      const std::string key = fmt::format("{}/{}/model.tar.gz", name, ++data_made);
      ASSIGN_OR_RETURN(
          storage::ObjectInfo info,
          objects.Copy(seller, uri.bucket, uri.key, options.account, options.bucket, key));
      out["ModelDataUrl"] = storage::S3Uri{options.bucket, key}.ToString();
      out["ModelDataAccount"] = options.account;
      data_digests.push_back(info.etag);
    }
    return out;
  }
};

// The visible container of an InferenceSpecification pointing at an escrowed one.
void PointAt(Json& visible, const Json& escrowed) {
  visible["Image"] = escrowed["Image"];
  visible["ImageDigest"] = escrowed["ImageDigest"];
  if (escrowed.contains("ModelDataUrl")) visible["ModelDataUrl"] = escrowed["ModelDataUrl"];
}

}  // namespace

absl::Status PackageEscrow::CheckListable(const PackageRecord& r) {
  const std::string prefix =
      fmt::format("{} {} cannot be listed",
                  r.kind == kAlgorithmKind ? "Algorithm" : "Model package", DisplayName(r));
  if (r.status == kFailed) {
    std::vector<std::string> reasons;
    for (const Json& v : r.details.value("ValidationStatuses", Json::array())) {
      if (v.value("Status", "") == kFailed) {
        reasons.push_back(fmt::format("{}: {}", v.value("Name", ""), v.value("FailureReason", "")));
      }
    }
    return absl::FailedPreconditionError(
        fmt::format("{}: validation failed: {}", prefix, fmt::join(reasons, "; ")));
  }
  if (r.status != kCompleted) {
    return absl::FailedPreconditionError(
        fmt::format("{}: its status is {} (validation must complete first)", prefix, r.status));
  }
  if (!r.spec.value("CertifyForMarketplace", false)) {
    return absl::FailedPreconditionError(
        fmt::format("{}: it is not certified for the marketplace (create it with "
                    "CertifyForMarketplace=true and a validation profile)",
                    prefix));
  }
  std::vector<std::string> scans;
  for (const Json& s : r.details.value("ImageScanStatuses", Json::array())) {
    if (s.value("Status", "") == kFailed) {
      scans.push_back(fmt::format("{}: {}", s.value("Name", ""), s.value("FailureReason", "")));
    }
  }
  if (!scans.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: image scan found high-severity issues: {}", prefix, fmt::join(scans, "; ")));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> PackageEscrow::Result(const PackageRecord& escrowed) {
  return Json{{"Arn", escrowed.arn},
              {"Kind", escrowed.kind},
              {"Spec", packages_.Describe(escrowed)},
              {"ImageDigests", escrowed.spec.value("_ImageDigests", Json::array())},
              {"ModelDataDigests", escrowed.spec.value("_ModelDataDigests", Json::array())}};
}

absl::StatusOr<Json> PackageEscrow::Escrow(std::string_view seller, std::string_view source_arn,
                                           std::string_view escrow_name) {
  if (!IsValidResourceName(escrow_name)) {
    return Invalid(fmt::format("'{}' is not a valid name for an escrowed copy", escrow_name));
  }
  ASSIGN_OR_RETURN(PackageRecord src, packages_.Find("", source_arn, seller));
  if (src.account_id != seller) return NotFoundError("Package", source_arn);
  RETURN_IF_ERROR(CheckListable(src));
  ASSIGN_OR_RETURN(auto existing, packages_.records().Get(options_.account, src.kind, escrow_name));
  if (existing) {
    if (existing->spec.value("_EscrowSource", Json::object()).value("Arn", "") == src.arn) {
      return Result(*existing);
    }
    return AwsError(absl::StatusCode::kAlreadyExists, "ResourceInUse",
                    fmt::format("an escrowed copy named {} already exists", escrow_name));
  }

  Copier copier{packages_, objects_, options_, std::string(seller), std::string(escrow_name)};
  Json spec = src.spec;
  if (spec.contains("_TrainingImage")) {
    ASSIGN_OR_RETURN(Json ti, copier.Image(spec["_TrainingImage"]));
    spec["_TrainingImage"] = ti;
    spec["TrainingSpecification"]["TrainingImage"] = ti["Image"];
    spec["TrainingSpecification"]["TrainingImageDigest"] = ti["ImageDigest"];
  }
  Json images = Json::array();
  for (const Json& img : src.spec.value("_Images", Json::array())) {
    ASSIGN_OR_RETURN(Json copy, copier.Image(img));
    images.push_back(std::move(copy));
  }
  Json containers = Json::array();
  for (const Json& c : src.spec.value("_Containers", Json::array())) {
    ASSIGN_OR_RETURN(Json copy, copier.Container(c));
    containers.push_back(std::move(copy));
  }
  spec["_Images"] = images;
  spec["_Containers"] = containers;

  if (spec.contains("InferenceSpecification")) {
    Json& visible = spec["InferenceSpecification"]["Containers"];
    for (size_t i = 0; i < visible.size() && i < containers.size(); ++i) {
      PointAt(visible[i], containers[i]);
    }
  } else if (spec.contains("_SourceAlgorithm")) {
    const Json algo_ref = spec["_SourceAlgorithm"];
    if (algo_ref.value("Account", "") == seller) {
      // The seller's own algorithm is not escrowed by itself: materialize its inference spec.
      auto algo = packages_.Find(kAlgorithmKind, algo_ref.value("Arn", ""), seller);
      if (!algo.ok()) {
        return absl::FailedPreconditionError(
            fmt::format("Model package {} cannot be listed: its source algorithm no longer exists",
                        DisplayName(src)));
      }
      Json inference = algo->spec.value("InferenceSpecification", Json::object());
      inference["Containers"] = Json::array();
      for (const Json& c : containers) {
        Json visible = Json::object();
        PointAt(visible, c);
        if (c.contains("Environment")) visible["Environment"] = c["Environment"];
        inference["Containers"].push_back(std::move(visible));
      }
      spec["InferenceSpecification"] = inference;
      spec.erase("SourceAlgorithmSpecification");
      spec.erase("_SourceAlgorithm");
    } else {
      Json& sa = spec["SourceAlgorithmSpecification"]["SourceAlgorithms"][0];
      sa["AlgorithmName"] = algo_ref["Arn"];
      if (!containers.empty() && containers[0].contains("ModelDataUrl")) {
        sa["ModelDataUrl"] = containers[0]["ModelDataUrl"];
      }
    }
  }
  PackageRecord r;
  r.account_id = options_.account;
  r.kind = src.kind;
  r.name = std::string(escrow_name);
  r.arn = packages_.Arn(options_.account, src.kind, escrow_name);
  if (src.kind == kModelPackageKind) {
    spec["ModelPackageName"] = r.name;
    spec.erase("ModelPackageGroupName");
  }
  const int64_t now = absl::ToUnixMicros(packages_.clock().Now());
  spec["_EscrowSource"] = {{"Arn", src.arn}, {"Account", src.account_id}, {"EscrowedAt", now}};
  spec["_ImageDigests"] = copier.image_digests;
  spec["_ModelDataDigests"] = copier.data_digests;
  r.spec = std::move(spec);
  r.status = kCompleted;
  r.details = src.details;
  r.validation = src.validation;
  r.created_at = r.last_modified = now;
  absl::Status inserted = packages_.records().Insert(r);
  if (absl::IsAlreadyExists(inserted)) {
    return AwsError(absl::StatusCode::kAlreadyExists, "ResourceInUse",
                    fmt::format("an escrowed copy named {} already exists", escrow_name));
  }
  RETURN_IF_ERROR(inserted);
  return Result(r);
}

}  // namespace mercato::catalog
