// PackageEscrow: the immutable copy of a listed algorithm or model package in the
// platform's escrow account (MarketplaceHooks::escrow), so that nothing the seller later
// changes or deletes affects what buyers run.
//
// Escrow() refuses (FailedPrecondition, "<Kind> <name> cannot be listed: <why>") unless the
// source belongs to the seller, is Completed, is CertifyForMarketplace and none of its image
// scans failed. It then, in the escrow account:
//   - records each of the seller's images (by the digest validated) as
//     "escrow/<escrow_name>:<n>" (ImageRegistry::CopyTo shares the layer blobs);
//   - copies each of the seller's model data objects to
//     s3://<bucket>/<escrow_name>/<n>/model.tar.gz (ObjectStore::Copy shares the blobs);
//   - inserts an algorithm / model package named `escrow_name`, status Completed, with the
//     same spec pointing at those copies (image URIs by digest). A model package made from
//     the seller's own algorithm gets the algorithm's InferenceSpecification materialized;
//     one made from a marketplace algorithm keeps naming it by ARN.
// Calling it again for the same source and name returns the existing copy.
//
// Thread-safe; borrows the service and the object store.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "catalog/package_service.h"
#include "storage/object_store.h"

namespace mercato::catalog {

struct EscrowOptions {
  std::string account;  // the platform-owned escrow account
  std::string region = "local";
  std::string bucket = "mercato-escrow";
};

class PackageEscrow {
 public:
  PackageEscrow(PackageService& packages, storage::ObjectStore& objects, EscrowOptions options)
      : packages_(packages), objects_(objects), options_(std::move(options)) {}

  // {"Arn", "Kind", "Spec": <the escrowed copy's Describe output>, "ImageDigests": [...],
  //  "ModelDataDigests": [<ETag of each copied object>]}.
  absl::StatusOr<Json> Escrow(std::string_view seller, std::string_view source_arn,
                              std::string_view escrow_name);

 private:
  // Refusal reasons, or OK.
  absl::Status CheckListable(const PackageRecord& r);
  absl::StatusOr<Json> Result(const PackageRecord& escrowed);

  PackageService& packages_;
  storage::ObjectStore& objects_;
  const EscrowOptions options_;
};

}  // namespace mercato::catalog
