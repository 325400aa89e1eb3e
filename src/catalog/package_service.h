// PackageService: SageMaker's algorithms, model packages and model package groups for each
// account (CreateAlgorithm ... DeleteModelPackageGroup), in SageMaker's own JSON shapes, with
// times as epoch seconds and errors carrying SageMaker's codes (ValidationException,
// ResourceNotFound) as hosting_service.h does.
//
// Images: every image a spec names must be in the caller's image registry; the digest each
// reference resolved to is recorded, so validation, the image scan statuses and escrow all
// refer to the image that was checked. ImageScanStatuses come from the registry's scan
// (a HIGH finding makes the image's scan Failed).
//
// Statuses: with a ValidationSpecification a package starts Pending and PackageValidator
// (validation_runner.h) moves it InProgress → Completed | Failed; without one it is
// Completed at once (no ValidationStatuses). CertifyForMarketplace requires a validation
// profile. A package being deleted while validation resources are still up is Deleting
// until the validator has cleaned up.
//
// Other accounts: Describe* given an ARN of another account returns PublicView() when the
// `can_view` option allows it, else ResourceNotFound as for a missing one; List* lists only
// the caller's own. SourceAlgorithmSpecification may name another account's algorithm by
// ARN when `can_view` allows it (a marketplace algorithm).
//
// Thread-safe; borrows the store, the image registry and the clock.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "catalog/package_store.h"
#include "image/image_registry.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

struct PackageServiceOptions {
  std::string region = "local";
  // OK when `caller` may see the package or algorithm `arn` owned by another account.
  // Unset: nothing of another account is visible.
  std::function<absl::Status(std::string_view caller, std::string_view arn)> can_view;
  // Called when a package needs the validator's attention (created with a validation
  // profile, or being deleted with validation resources up).
  std::function<void()> changed;
};

class PackageService {
 public:
  PackageService(MetadataStore& store, ImageRegistry& images, const Clock& clock,
                 PackageServiceOptions options);

  absl::StatusOr<Json> CreateAlgorithm(std::string_view account, const Json& in);
  absl::StatusOr<Json> DescribeAlgorithm(std::string_view account, const Json& in);
  absl::StatusOr<Json> ListAlgorithms(std::string_view account, const Json& in);
  absl::StatusOr<Json> DeleteAlgorithm(std::string_view account, const Json& in);

  absl::StatusOr<Json> CreateModelPackage(std::string_view account, const Json& in);
  absl::StatusOr<Json> DescribeModelPackage(std::string_view account, const Json& in);
  absl::StatusOr<Json> ListModelPackages(std::string_view account, const Json& in);
  absl::StatusOr<Json> UpdateModelPackage(std::string_view account, const Json& in);
  absl::StatusOr<Json> DeleteModelPackage(std::string_view account, const Json& in);

  absl::StatusOr<Json> CreateModelPackageGroup(std::string_view account, const Json& in);
  absl::StatusOr<Json> DescribeModelPackageGroup(std::string_view account, const Json& in);
  absl::StatusOr<Json> ListModelPackageGroups(std::string_view account, const Json& in);
  absl::StatusOr<Json> DeleteModelPackageGroup(std::string_view account, const Json& in);

  // The record named `name_or_arn` (a name is looked up in `account`); `kind` empty means
  // either kind (algorithms first). No access check. ResourceNotFound if none.
  absl::StatusOr<PackageRecord> Find(std::string_view kind, std::string_view name_or_arn,
                                     std::string_view account);
  // The owner's DescribeAlgorithm / DescribeModelPackage output of a record.
  Json Describe(const PackageRecord& r) const;
  // The marketplace's view of a package (MarketplaceHooks::lookup_package):
  // {"Kind", "Arn", "Account", "Describe", "Containers": [{"Image", "ImageAccount",
  //  "ImageDigest", "ModelDataUrl"?, "ModelDataAccount"?, "Environment"?}],
  //  "MarketplaceArns": [...]} where MarketplaceArns are the other accounts' ARNs it uses.
  absl::StatusOr<Json> Lookup(std::string_view name_or_arn, std::string_view caller);

  // arn:aws:sagemaker:REGION:ACCOUNT:TYPE/name (lower-cased).
  std::string Arn(std::string_view account, std::string_view type, std::string_view name) const;
  PackageStore& records() { return records_; }
  ImageRegistry& images() { return images_; }
  const Clock& clock() const { return clock_; }
  const std::string& region() const { return options_.region; }

 private:
  // {"Image", "ImageAccount", "ImageRepository", "ImageDigest"} of an image reference in
  // `account`; ValidationException when it is not there.
  absl::StatusOr<Json> ResolveImage(std::string_view account, std::string_view reference);
  // ImageScanStatuses for the images of `spec` (its "_Images").
  Json ScanStatuses(const Json& spec);
  // Status, details and validation of a new package with `profiles` validation profiles.
  void InitStatus(PackageRecord& r, const Json& validation_spec);
  absl::StatusOr<Json> DescribeFor(std::string_view kind, std::string_view account,
                                   std::string_view name_or_arn);
  absl::StatusOr<Json> DeleteRecord(PackageRecord r);

  PackageStore records_;
  ImageRegistry& images_;
  const Clock& clock_;
  const PackageServiceOptions options_;
};

}  // namespace mercato::catalog
