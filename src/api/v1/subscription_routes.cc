#include "api/v1/subscription_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::StatusOr<commerce::SubscribeRequest> ParseSubscribe(const Json& body) {
  if (!body.is_object()) return Invalid("the request body must be a JSON object");
  commerce::SubscribeRequest r;
  if (!body.contains("Product") || !body["Product"].is_string() ||
      body["Product"].get<std::string>().empty()) {
    return Invalid("Product (a product id or code) is required");
  }
  r.product = body["Product"].get<std::string>();
  for (auto [field, out] : {std::pair{"RefTag", &r.ref_tag}, std::pair{"EulaHash", &r.eula_hash}}) {
    if (!body.contains(field) || body[field].is_null()) continue;
    if (!body[field].is_string()) return Invalid(fmt::format("{} must be a string", field));
    *out = body[field].get<std::string>();
  }
  if (body.contains("AcceptEula") && !body["AcceptEula"].is_null()) {
    if (!body["AcceptEula"].is_boolean()) return Invalid("AcceptEula must be true or false");
    r.accept_eula = body["AcceptEula"].get<bool>();
  }
  return r;
}

}  // namespace

void AddSubscriptionRoutes(V1Api& api, commerce::SubscriptionService& subscriptions) {
  commerce::SubscriptionService& s = subscriptions;
  api.AddRoute(
      "GET", "/api/v1/subscriptions/terms/{product}", [&s](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(Json terms, s.Terms(c.principal.account_id, c.params.at("product")));
        return Reply{200, std::move(terms)};
      });
  api.AddRoute("POST", "/api/v1/subscriptions", [&s](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(commerce::SubscribeRequest req, ParseSubscribe(c.body));
    ASSIGN_OR_RETURN(commerce::Subscription sub, s.Subscribe(c.principal.account_id, req));
    return Reply{200, commerce::SubscriptionJson(sub)};
  });
  api.AddRoute("GET", "/api/v1/subscriptions", [&s](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto list, s.List(c.principal.account_id));
    Json out = Json::array();
    for (const auto& sub : list) out.push_back(commerce::SubscriptionJson(sub));
    return Reply{200, Json{{"Subscriptions", std::move(out)}}};
  });
  api.AddRoute("GET", "/api/v1/subscriptions/{id}", [&s](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto sub, s.Get(c.principal.account_id, c.params.at("id")));
    return Reply{200, commerce::SubscriptionJson(sub)};
  });
  api.AddRoute(
      "DELETE", "/api/v1/subscriptions/{id}", [&s](const Call& c) -> absl::StatusOr<Reply> {
        ASSIGN_OR_RETURN(auto sub, s.Unsubscribe(c.principal.account_id, c.params.at("id")));
        return Reply{200, commerce::SubscriptionJson(sub)};
      });
}

}  // namespace mercato::api::v1
