#include "api/v1/product_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

absl::Status Validation(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

std::string Str(const Json& body, const char* key) {
  if (!body.is_object() || !body.contains(key) || !body[key].is_string()) return "";
  return body[key].get<std::string>();
}

}  // namespace

void AddProductRoutes(V1Api& api, const ProductRouteDeps& deps) {
  catalog::ProductService& products = deps.products;
  auto describe = [&products](const Call& c, const std::string& id) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(Json j, products.Describe(c.principal.account_id, id));
    return Reply{200, std::move(j)};
  };
  api.AddRoute(
      "POST", "/api/v1/products", [&products, describe](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(catalog::Product p, products.Create(c.principal.account_id, c.body));
        ASSIGN_OR_RETURN(Reply r, describe(c, p.id));
        r.status = 201;
        return r;
      });
  api.AddRoute("GET", "/api/v1/products", [&products](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto list, products.List(c.principal.account_id));
    Json out = {{"Products", Json::array()}};
    for (const catalog::Product& p : list) {
      Json s = catalog::SummaryJson(p);
      s["UpdatedAt"] = catalog::IsoMicros(p.updated_at);
      out["Products"].push_back(std::move(s));
    }
    return Reply{200, std::move(out)};
  });
  api.AddRoute("GET", "/api/v1/products/{id}",
               [describe](const Call& c) { return describe(c, c.params.at("id")); });
  api.AddRoute("PATCH", "/api/v1/products/{id}",
               [&products, describe](const Call& c) -> absl::StatusOr<Reply> {
                 RETURN_IF_ERROR(
                     products.Update(c.principal.account_id, c.params.at("id"), c.body).status());
                 return describe(c, c.params.at("id"));
               });
  api.AddRoute("POST", "/api/v1/products/{id}/versions",
               [&products](const Call& c) -> absl::StatusOr<Reply> {
                 ASSIGN_OR_RETURN(catalog::ProductVersion v,
                                  products.AddVersion(c.principal.account_id, c.params.at("id"),
                                                      Str(c.body, "Source"), Str(c.body, "Version"),
                                                      Str(c.body, "ReleaseNotes")));
                 return Reply{201,
                              {{"ProductId", v.product_id},
                               {"Version", v.version},
                               {"Kind", v.kind},
                               {"EscrowedArn", v.escrowed_arn},
                               {"ReleaseNotes", v.release_notes},
                               {"CreatedAt", catalog::IsoMicros(v.created_at)}}};
               });
  for (bool restrict : {true, false}) {
    api.AddRoute("POST",
                 restrict ? "/api/v1/products/{id}/versions/{version}/restrict"
                          : "/api/v1/products/{id}/versions/{version}/unrestrict",
                 [&products, restrict](const Call& c) -> absl::StatusOr<Reply> {
                   ASSIGN_OR_RETURN(
                       catalog::ProductVersion v,
                       products.SetVersionRestricted(c.principal.account_id, c.params.at("id"),
                                                     c.params.at("version"), restrict));
                   return Reply{200,
                                {{"ProductId", v.product_id},
                                 {"Version", v.version},
                                 {"Restricted", v.restricted},
                                 {"RestrictedAt", catalog::IsoMicros(v.restricted_at)}}};
                 });
  }
  api.AddRoute("POST", "/api/v1/products/{id}/visibility",
               [&products, describe](const Call& c) -> absl::StatusOr<Reply> {
                 std::optional<std::vector<std::string>> allow;
                 if (c.body.is_object() && c.body.contains("AllowList")) {
                   const Json& a = c.body["AllowList"];
                   if (!a.is_array()) return Validation("AllowList is a list of account ids");
                   allow.emplace();
                   for (const Json& id : a) {
                     if (!id.is_string()) return Validation("AllowList is a list of account ids");
                     allow->push_back(id.get<std::string>());
                   }
                 }
                 RETURN_IF_ERROR(products
                                     .SetVisibility(c.principal.account_id, c.params.at("id"),
                                                    Str(c.body, "Visibility"), std::move(allow))
                                     .status());
                 return describe(c, c.params.at("id"));
               });
  api.AddRoute("PUT", "/api/v1/products/{id}/offer",
               [&products, describe](const Call& c) -> absl::StatusOr<Reply> {
                 RETURN_IF_ERROR(
                     products.SetOffer(c.principal.account_id, c.params.at("id"), c.body).status());
                 return describe(c, c.params.at("id"));
               });
  api.AddRoute(
      "POST", "/api/v1/products/{id}/remove",
      [&products, describe](const Call& c) -> absl::StatusOr<Reply> {
        RETURN_IF_ERROR(products.Remove(c.principal.account_id, c.params.at("id")).status());
        return describe(c, c.params.at("id"));
      });
  api.AddRoute("POST", "/api/v1/admin/catalog/bulk-load",
               [&products](const Call& c) -> absl::StatusOr<Reply> {
                 if (!c.principal.is_operator) {
                   return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                                   "only the operator may bulk-load products");
                 }
                 if (!c.body.is_object() || !c.body.contains("Products")) {
                   return Validation("body must be {\"Products\": [...]}");
                 }
                 ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                  products.BulkLoad(c.body["Products"]));
                 return Reply{200, {{"ProductIds", ids}}};
               });
  // After a bulk import: merges the full-text index (seconds at 10^5 products, holding the
  // write lock), which makes every later search lookup several times cheaper.
  api.AddRoute("POST", "/api/v1/admin/catalog/optimize",
               [&products](const Call& c) -> absl::StatusOr<Reply> {
                 if (!c.principal.is_operator) {
                   return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                                   "only the operator may optimize the catalog index");
                 }
                 RETURN_IF_ERROR(products.OptimizeSearch());
                 return Reply{200, {{"Optimized", true}}};
               });
}

}  // namespace mercato::api::v1
