// CatalogService: what buyers read. Search (full text through a SearchIndex, filters,
// sorting, NextToken paging), a product's detail page (recording ?ref= visits), and the
// downloadable sample notebook, sample data and logo.
//
// Visibility: Public products; Limited ones for their allow-list, test accounts and seller;
// Restricted (removed) ones only for their seller and existing subscribers
// (options.is_subscriber). Anything else is NotFound, exactly like a missing product.
// Buyers see non-restricted versions only (the seller sees all), each with its escrowed
// ARN, release notes and public spec fields — never an image or model data location.
// Thread-safety: thread-safe; borrows its collaborators.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "blob/blob_store.h"
#include "catalog/product_types.h"
#include "catalog/search_index.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

struct CatalogServiceOptions {
  // True when `account` holds or held a subscription to the product.
  std::function<bool(std::string_view account, std::string_view product_id)> is_subscriber;
  std::string console_base;  // public base URL of product pages
  size_t max_results = 100;  // MaxResults cap (default 20)
};

// The query string of GET /api/v1/catalog/search, unparsed ("" = absent).
struct CatalogSearchRequest {
  std::string q, type, category, pricing, free_trial, instance_type, sort, max_results, next_token;
};

class CatalogService {
 public:
  CatalogService(MetadataStore& store, BlobStore& blobs, SearchIndex& index, const Clock& clock,
                 CatalogServiceOptions options);

  // → {"Products": [SummaryJson...], "NextToken"?}. InvalidArgument (ValidationError) for a
  // bad filter, sort, MaxResults or token.
  absl::StatusOr<Json> Search(std::string_view viewer, const CatalogSearchRequest& request);
  // Parses a request into a query (exposed for tests).
  absl::StatusOr<CatalogQuery> ParseRequest(std::string_view viewer,
                                            const CatalogSearchRequest& request) const;

  // BuyerProductJson plus "RecentReviews". A non-empty `ref` (≤ 64 of [A-Za-z0-9._-]) records
  // a visit (product, ref, time, viewer).
  absl::StatusOr<Json> Detail(std::string_view viewer, std::string_view id_or_code,
                              std::string_view ref);
  // The product if `viewer` may see it (rules above).
  absl::StatusOr<Product> Visible(std::string_view viewer, std::string_view id_or_code);
  absl::StatusOr<std::string> Notebook(std::string_view viewer, std::string_view id_or_code);
  // {content type, bytes}.
  absl::StatusOr<std::pair<std::string, std::string>> Logo(std::string_view viewer,
                                                           std::string_view id_or_code);
  // The escrowed copy {"Bucket", "Key", "Size"} (for the download route; not shown to buyers).
  absl::StatusOr<Json> SampleData(std::string_view viewer, std::string_view id_or_code);

 private:
  MetadataStore& store_;
  BlobStore& blobs_;
  SearchIndex& index_;
  const Clock& clock_;
  CatalogServiceOptions options_;
};

// NextToken <-> offset.
std::string EncodePageToken(size_t offset);
absl::StatusOr<size_t> DecodePageToken(std::string_view token);

}  // namespace mercato::catalog
