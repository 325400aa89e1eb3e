// Native API routes of the products part (catalog/product_service.h, catalog_service.h,
// review_service.h). Every route needs an authenticated caller.
//
// Seller (owner-only: another account's product is 404 ResourceNotFound, like a missing one):
//   POST   /api/v1/products                          listing fields → 201 product
//   GET    /api/v1/products                          → {"Products": [...]} (the caller's)
//   GET    /api/v1/products/{id}                     → product with versions
//   PATCH  /api/v1/products/{id}                     listing fields → product
//   POST   /api/v1/products/{id}/versions            {"Source","Version","ReleaseNotes"} → 201
//   POST   /api/v1/products/{id}/versions/{version}/restrict | /unrestrict → version
//   POST   /api/v1/products/{id}/visibility          {"Visibility","AllowList"?} → product
//   PUT    /api/v1/products/{id}/offer               offer (catalog/offer.h) → product
//   POST   /api/v1/products/{id}/remove              → product (Restricted)
//   POST   /api/v1/admin/catalog/bulk-load           operator only: {"Products": [...]} →
//                                                    {"ProductIds"} (seeding; benchmarks)
// Buyers (catalog_routes.cc):
//   GET /api/v1/catalog/search?q=&type=model|algorithm&category=&pricing=free|paid&
//       free_trial=true&instance_type=&sort=relevance|rating|newest&max_results=&next_token=
//   GET /api/v1/catalog/products/{code}[?ref=TAG]    → detail (a ref records a visit)
//   GET /api/v1/catalog/products/{code}/notebook     → the .ipynb JSON
//   GET /api/v1/catalog/products/{code}/sample-data  → the escrowed sample data bytes
//   GET /api/v1/catalog/products/{code}/logo         → the logo image
// Reviews (review_routes.cc):
//   POST /api/v1/catalog/products/{code}/reviews  {"Rating","Title"?,"Body"?} → 201 review
//   GET  /api/v1/catalog/products/{code}/reviews?max_results=&next_token=
//   PATCH / DELETE /api/v1/catalog/products/{code}/reviews/{id}
//   POST /api/v1/catalog/products/{code}/reviews/{id}/reply  {"Body"}
// The functions only register routes; the routes borrow what they are given.
#pragma once

#include <functional>

#include "api/v1/v1_api.h"
#include "catalog/catalog_service.h"
#include "catalog/product_service.h"
#include "catalog/review_service.h"
#include "http/message.h"

namespace mercato::api::v1 {

struct ProductRouteDeps {
  catalog::ProductService& products;
  catalog::CatalogService& catalog;
  catalog::ReviewService& reviews;
  // Opens an escrowed sample data object ({"Bucket","Key"} from CatalogService::SampleData).
  std::function<absl::StatusOr<http::BodySourcePtr>(const Json& location)> open_sample_data;
};

void AddProductRoutes(V1Api& api, const ProductRouteDeps& deps);
void AddCatalogRoutes(V1Api& api, const ProductRouteDeps& deps);
void AddReviewRoutes(V1Api& api, const ProductRouteDeps& deps);

}  // namespace mercato::api::v1
