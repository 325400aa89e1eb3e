// ReviewService: buyers' reviews of products. One review per subscriber per product
// (options.is_subscriber), 1-5 stars with an optional title and a text; editable and
// deletable by its author only; one reply per review by the product's seller. The product's
// rating is kept exact as a sum and a count, updated in the same transaction as the review.
// Reviews are read by whoever may see the product (catalog_service.h rules).
// Errors: PermissionDenied (NotSubscribed / AccessDenied), AlreadyExists (ReviewExists /
// ReplyExists), InvalidArgument (ValidationError), NotFound. Thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "catalog/catalog_service.h"
#include "catalog/product_types.h"
#include "catalog/search_index.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

struct ReviewServiceOptions {
  std::function<bool(std::string_view account, std::string_view product_id)> is_subscriber;
};

class ReviewService {
 public:
  // `catalog` decides who may see a product; `index` is told the new ratings.
  ReviewService(MetadataStore& store, CatalogService& catalog, SearchIndex& index,
                const Clock& clock, ReviewServiceOptions options);

  // body: {"Rating": 1..5, "Title"?: ≤ 200, "Body"?: ≤ 10000}.
  absl::StatusOr<Review> Add(std::string_view author, std::string_view product, const Json& body);
  // Changes the given fields of the author's review.
  absl::StatusOr<Review> Edit(std::string_view author, std::string_view product,
                              std::string_view review_id, const Json& body);
  absl::Status Delete(std::string_view author, std::string_view product,
                      std::string_view review_id);
  absl::StatusOr<Review> Reply(std::string_view seller, std::string_view product,
                               std::string_view review_id, std::string_view text);
  // → {"Reviews": [...newest first], "NextToken"?, "Rating": {...}}.
  absl::StatusOr<Json> List(std::string_view viewer, std::string_view product,
                            std::string_view max_results, std::string_view next_token);

 private:
  absl::StatusOr<Review> Load(Transaction& tx, std::string_view product_id,
                              std::string_view review_id);

  MetadataStore& store_;
  CatalogService& catalog_;
  SearchIndex& index_;
  const Clock& clock_;
  ReviewServiceOptions options_;
};

}  // namespace mercato::catalog
