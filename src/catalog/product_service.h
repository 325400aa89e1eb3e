// ProductService: the seller's side of product listings (DESIGN.md §3): create and edit a
// listing, add escrowed versions, restrict versions, set the offer, move visibility, and
// remove. Buyers' reads are in catalog_service.h, reviews in review_service.h.
//
// Rules:
//  - Only registered sellers create products (options.require_seller; its error is passed
//    through with code SellerNotRegistered and 403). A product's routes answer only its
//    seller: another account gets NotFound, as for a missing product.
//  - Listing fields (Json, the native API's names): Title (required, ≤ 200), ShortDescription
//    (required, ≤ 500), LongDescription, UsageInstructions, DataPreprocessing (Markdown),
//    Categories (≤ 10), Highlights (≤ 10), SupportContact, Eula, Logo (base64 PNG, JPEG or
//    SVG, ≤ max_logo_bytes; "" clears), SampleNotebook (nbformat-4 .ipynb as text or JSON),
//    SampleData ("s3://BUCKET/KEY" in the seller's account, copied into the escrow bucket),
//    RecommendedInstanceTypes (known instance types). Unknown fields are refused.
//  - Versions: label [0-9A-Za-z]+ joined by '.' or '-', ≤ 32, unique per product; the source
//    is escrowed as "<code>-v<label with '.'→'-'>" by options.escrow; all versions of a product
//    have the same kind, which becomes the product type. Restricting hides a version from
//    new buyers (restricted_at recorded); unrestricting shows it again.
//  - Visibility: Draft → Limited(allow-list) ↔ Public; any → Restricted by Remove (final;
//    options.on_removed runs after the commit). Limited and Public need a non-restricted
//    version. A Restricted product cannot be edited.
//  - Offer: see offer.h; its test accounts may see the product while it is Limited.
// Errors: InvalidArgument (ValidationError / InvalidNotebook / InvalidLogo) for bad input,
// FailedPrecondition (InvalidState) for a rule, AlreadyExists for a duplicate version,
// Unavailable when a needed option (another part) is not there.
// Thread-safety: thread-safe; borrows the store, blobs, index and clock.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "blob/blob_store.h"
#include "catalog/product_types.h"
#include "catalog/search_index.h"
#include "sandbox/instance_types.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

struct ProductServiceOptions {
  // OK when `account` is a registered seller.
  std::function<absl::Status(std::string_view account)> require_seller;
  // Escrows a Completed, certified package or algorithm; returns {"Arn", "Kind", "Spec",
  // "ImageDigests", "ModelDataDigests"} (server/marketplace.h).
  std::function<absl::StatusOr<Json>(std::string_view seller, std::string_view source_arn,
                                     std::string_view escrow_name)>
      escrow;
  // Called (outside any transaction) after a product became Restricted by removal.
  std::function<void(std::string_view product_id)> on_removed;
  // Called (outside any transaction) after SetOffer committed a new offer, so billing can
  // give existing subscribers notice of the price change. Optional.
  std::function<void(std::string_view product_id)> on_offer_changed;
  // Copies the seller's object at `uri` (s3://BUCKET/KEY) into the escrow bucket under
  // `dest_key`; returns {"Bucket", "Key", "Size"}.
  std::function<absl::StatusOr<Json>(std::string_view seller, std::string_view uri,
                                     std::string_view dest_key)>
      copy_sample_data;
  sandbox::InstanceTypes instance_types = sandbox::InstanceTypes::Default();
  // The server's public base URL for product pages (ProductUrl).
  std::string console_base;
  size_t max_logo_bytes = 512 * 1024;
  size_t max_notebook_bytes = 8 * 1024 * 1024;
};

class ProductService {
 public:
  ProductService(MetadataStore& store, BlobStore& blobs, SearchIndex& index, const Clock& clock,
                 ProductServiceOptions options);

  absl::StatusOr<Product> Create(std::string_view seller, const Json& fields);
  absl::StatusOr<Product> Update(std::string_view seller, std::string_view id, const Json& fields);
  // The seller's own product (NotFound for anyone else).
  absl::StatusOr<Product> Get(std::string_view seller, std::string_view id);
  // SellerProductJson of Get().
  absl::StatusOr<Json> Describe(std::string_view seller, std::string_view id);
  absl::StatusOr<std::vector<Product>> List(std::string_view seller);

  absl::StatusOr<ProductVersion> AddVersion(std::string_view seller, std::string_view id,
                                            std::string_view source_arn, std::string_view version,
                                            std::string_view release_notes);
  absl::StatusOr<ProductVersion> SetVersionRestricted(std::string_view seller, std::string_view id,
                                                      std::string_view version, bool restricted);
  // visibility: "Limited" (allow_list replaces the current one when given) or "Public".
  absl::StatusOr<Product> SetVisibility(std::string_view seller, std::string_view id,
                                        std::string_view visibility,
                                        std::optional<std::vector<std::string>> allow_list);
  absl::StatusOr<Product> SetOffer(std::string_view seller, std::string_view id, const Json& offer);
  absl::StatusOr<Product> Remove(std::string_view seller, std::string_view id);

  // For the other parts (no access check).
  absl::StatusOr<Product> Find(std::string_view id_or_code);
  absl::StatusOr<std::pair<Product, ProductVersion>> VersionByArn(std::string_view arn);

  // Operator seeding (benchmarks, demos): inserts Public products without the seller and
  // escrow checks, in one transaction. Each item: the listing fields plus "Seller",
  // "ProductType" and optionally "Offer"; returns the new ids.
  absl::StatusOr<std::vector<std::string>> BulkLoad(const Json& items);
  // Compacts the search index (after bulk loads; see SearchIndex::Optimize).
  absl::Status OptimizeSearch() { return index_.Optimize(); }

  const std::string& console_base() const { return options_.console_base; }

 private:
  absl::Status ApplyFields(Product& p, const Json& fields);
  absl::StatusOr<Product> OwnedForUpdate(Transaction& tx, std::string_view seller,
                                         std::string_view id);
  // Rewrites the filter tables and the search document of `p`.
  absl::Status Reindex(Transaction& tx, const Product& p,
                       const std::vector<ProductVersion>& versions);
  int64_t NowMicros() const;

  MetadataStore& store_;
  BlobStore& blobs_;
  SearchIndex& index_;
  const Clock& clock_;
  ProductServiceOptions options_;
};

// "prod-" + 13 random lower-case letters and digits; product codes are 20 of them.
std::string NewProductId();
std::string NewProductCode();
// "<code>-v<version with '.' → '-'>".
std::string EscrowName(std::string_view code, std::string_view version);

}  // namespace mercato::catalog
