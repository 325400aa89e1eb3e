#include "api/v1/catalog_routes.h"

#include "api/common/errors.h"
#include "base/status.h"

namespace mercato::api::v1 {
namespace {

std::string Query(const http::Request& r, const char* name) {
  return r.QueryParam(name).value_or("");
}

}  // namespace

void AddCatalogRoutes(V1Api& api, const ProductRouteDeps& deps) {
  catalog::CatalogService& catalog = deps.catalog;
  api.AddRoute("GET", "/api/v1/catalog/search", [&catalog](const Call& c) -> absl::StatusOr<Reply> {
    const http::Request& r = c.request;
    catalog::CatalogSearchRequest req{
        Query(r, "q"),       Query(r, "type"),        Query(r, "category"),
        Query(r, "pricing"), Query(r, "free_trial"),  Query(r, "instance_type"),
        Query(r, "sort"),    Query(r, "max_results"), Query(r, "next_token")};
    ASSIGN_OR_RETURN(Json out, catalog.Search(c.principal.account_id, req));
    return Reply{200, std::move(out)};
  });
  api.AddRoute(
      "GET", "/api/v1/catalog/products/{code}", [&catalog](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(Json out, catalog.Detail(c.principal.account_id, c.params.at("code"),
                                                  Query(c.request, "ref")));
        return Reply{200, std::move(out)};
      });
  api.AddRoute("GET", "/api/v1/catalog/products/{code}/notebook",
               [&catalog](const Call& c) -> absl::StatusOr<Reply> {
                 ASSIGN_OR_RETURN(std::string text,
                                  catalog.Notebook(c.principal.account_id, c.params.at("code")));
                 ASSIGN_OR_RETURN(Json nb, ParseJson(text));
                 return Reply{200, std::move(nb)};
               });
  api.AddStreamingRoute("GET", "/api/v1/catalog/products/{code}/logo",
                        [&catalog](const StreamingCall& c) -> absl::StatusOr<http::Response> {
                          auto logo = catalog.Logo(c.principal.account_id, c.params.at("code"));
                          if (!logo.ok()) return NativeError(logo.status());
                          return http::Response::Text(200, std::move(logo->second), logo->first);
                        });
  auto open = deps.open_sample_data;
  api.AddStreamingRoute(
      "GET", "/api/v1/catalog/products/{code}/sample-data",
      [&catalog, open](const StreamingCall& c) -> absl::StatusOr<http::Response> {
        auto where = catalog.SampleData(c.principal.account_id, c.params.at("code"));
        if (!where.ok()) return NativeError(where.status());
        if (!open) return NativeError(absl::UnavailableError("sample data is not available"));
        auto stream = open(*where);
        if (!stream.ok()) return NativeError(stream.status());
        http::Response r;
        r.stream = std::move(*stream);
        std::string key = where->value("Key", "sample-data");
        r.SetHeader("Content-Type", "application/octet-stream");
        r.SetHeader("Content-Disposition",
                    "attachment; filename=\"" + key.substr(key.rfind('/') + 1) + "\"");
        return r;
      });
}

}  // namespace mercato::api::v1
