#include "api/v1/review_routes.h"

#include "base/errors.h"
#include "base/status.h"

namespace mercato::api::v1 {

void AddReviewRoutes(V1Api& api, const ProductRouteDeps& deps) {
  catalog::ReviewService& reviews = deps.reviews;
  const std::string base = "/api/v1/catalog/products/{code}/reviews";
  api.AddRoute("POST", base, [&reviews](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(catalog::Review r,
                     reviews.Add(c.principal.account_id, c.params.at("code"), c.body));
    return Reply{201, catalog::ReviewJson(r)};
  });
  api.AddRoute("GET", base, [&reviews](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(Json out, reviews.List(c.principal.account_id, c.params.at("code"),
                                            c.request.QueryParam("max_results").value_or(""),
                                            c.request.QueryParam("next_token").value_or("")));
    return Reply{200, std::move(out)};
  });
  api.AddRoute("PATCH", base + "/{id}", [&reviews](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(catalog::Review r, reviews.Edit(c.principal.account_id, c.params.at("code"),
                                                     c.params.at("id"), c.body));
    return Reply{200, catalog::ReviewJson(r)};
  });
  api.AddRoute("DELETE", base + "/{id}", [&reviews](const Call& c) -> absl::StatusOr<Reply> {
    RETURN_IF_ERROR(reviews.Delete(c.principal.account_id, c.params.at("code"), c.params.at("id")));
    return Reply{200, {{"Deleted", c.params.at("id")}}};
  });
  api.AddRoute("POST", base + "/{id}/reply", [&reviews](const Call& c) -> absl::StatusOr<Reply> {
    std::string text = c.body.is_object() ? c.body.value("Body", "") : "";
    ASSIGN_OR_RETURN(catalog::Review r, reviews.Reply(c.principal.account_id, c.params.at("code"),
                                                      c.params.at("id"), text));
    return Reply{200, catalog::ReviewJson(r)};
  });
}

}  // namespace mercato::api::v1
