// The public page of a listed product, `GET /console/products/{code}[?ref=TAG]`: the URL
// each product advertises (ProductUrl). It renders the catalog detail that an anonymous
// visitor may see (Public products only; anything else is a 404 page) as plain HTML — title,
// descriptions, highlights, versions with release notes, pricing, support — and records the
// visit under its ref tag, like the native catalog route. Never shows an image or model data
// location (the catalog detail has none). Thread-safe; borrows the catalog.
#pragma once

#include <optional>

#include "catalog/catalog_service.h"
#include "http/message.h"

namespace mercato::api::v1 {

// The page for `request`, or nullopt when the path is not a product page.
std::optional<http::Response> ProductPage(catalog::CatalogService& catalog,
                                          const http::Request& request);

}  // namespace mercato::api::v1
