// Products (marketplace listings) as the catalog keeps them: the product record, its
// escrowed versions and reviews, plus the loaders every catalog service shares
// (product_records.cc) and the JSON shapes the native API shows (product_json.cc).
//
// Times are int64 micros since the Unix epoch (as stored). Visibility moves
// Draft → Limited → Public → Restricted (removed); see product_service.h for the rules.
// Pure data and stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

inline constexpr std::string_view kDraft = "Draft";
inline constexpr std::string_view kLimited = "Limited";
inline constexpr std::string_view kPublic = "Public";
inline constexpr std::string_view kRestricted = "Restricted";

struct Product {
  std::string id;    // "prod-" + 13 lower-case alnum
  std::string code;  // stable public product code
  std::string seller_account;
  std::string title;
  std::string short_description;
  std::string long_description;    // Markdown
  std::string usage_instructions;  // Markdown
  std::string preprocessing;       // data pre-processing requirements (Markdown)
  std::vector<std::string> categories;
  std::vector<std::string> highlights;
  std::string support_contact;
  std::string eula;
  std::string logo_blob;  // BlobStore id, "" when none
  std::string logo_type;  // image/png | image/jpeg | image/svg+xml
  std::string notebook_blob;
  Json sample_data = Json::object();        // {"Source","Bucket","Key","Size"} of the escrowed copy
  std::vector<std::string> instance_types;  // recommended
  std::string visibility = std::string(kDraft);
  std::string kind;  // "" until the first version: "model-package" | "algorithm"
  Json offer = Json::object();
  bool is_free = true;
  int64_t free_trial_days = 0;
  std::vector<std::string> allow_list;
  std::vector<std::string> test_accounts;
  int64_t rating_sum = 0;
  int64_t rating_count = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t published_at = 0;  // first time Limited or Public
  int64_t removed_at = 0;
};

struct ProductVersion {
  std::string product_id;
  std::string version;  // "1.0"
  std::string kind;
  std::string source_arn;    // the seller's package (seller view only)
  std::string escrowed_arn;  // what buyers pass to SageMaker
  std::string release_notes;
  Json image_digests = Json::array();
  Json model_data_digests = Json::array();
  Json spec = Json::object();  // escrowed Describe output: internal, never shown whole
  bool restricted = false;
  int64_t restricted_at = 0;
  int64_t created_at = 0;
};

struct Review {
  std::string id;
  std::string product_id;
  std::string author_account;
  int64_t rating = 0;  // 1..5
  std::string title;
  std::string body;
  std::string reply;  // the seller's reply, "" when none
  int64_t replied_at = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// -- product_records.cc: loading (works on the store or inside a transaction) --

// By id ("prod-...") or product code. NotFound (code ResourceNotFound) if none.
absl::StatusOr<Product> LoadProduct(MetadataStore& store, std::string_view id_or_code);
absl::StatusOr<Product> LoadProduct(Transaction& tx, std::string_view id_or_code);
absl::StatusOr<std::vector<ProductVersion>> LoadVersions(MetadataStore& store,
                                                         std::string_view product_id);
absl::StatusOr<std::vector<ProductVersion>> LoadVersions(Transaction& tx,
                                                         std::string_view product_id);
// Products by id, in the order given (missing ids are skipped).
absl::StatusOr<std::vector<Product>> LoadProducts(MetadataStore& store,
                                                  const std::vector<std::string>& ids);
// Inserts or replaces every column of the product row.
absl::Status SaveProduct(Transaction& tx, const Product& p);
ProductVersion VersionFromRow(const SqlRow& row);
inline constexpr std::string_view kVersionColumns =
    "product_id, version, kind, source_arn, escrowed_arn, release_notes, image_digests,"
    " model_data_digests, spec, restricted, restricted_at, created_at";

// NotFound shaped like a missing product (other accounts' drafts look the same).
absl::Status NoSuchProduct(std::string_view id_or_code);

// Who may see a product in the catalog: the seller always; Public: everyone; Limited: the
// allow-list and test accounts; Restricted: nobody new (subscribers are checked by the
// caller with its is_subscriber option).
bool CanBrowse(const Product& p, std::string_view viewer);

// -- product_json.cc: the API's shapes --

// The seller's full view (offer, allow-list, versions with source ARNs and digests).
Json SellerProductJson(const Product& p, const std::vector<ProductVersion>& versions,
                       std::string_view console_base);
// A catalog card (search results).
Json SummaryJson(const Product& p);
// The buyer's detail view: versions with release notes and escrowed ARNs, docs, pricing,
// support; never an image or model data location.
Json BuyerProductJson(const Product& p, const std::vector<ProductVersion>& versions,
                      std::string_view console_base);
Json ReviewJson(const Review& r);
// The spec fields a buyer needs to call SageMaker (content types, instance types,
// hyperparameters, channels, metrics), picked from an escrowed Describe output.
Json PublicSpec(const Json& spec);
std::string IsoMicros(int64_t micros);  // "" for 0

}  // namespace mercato::catalog
