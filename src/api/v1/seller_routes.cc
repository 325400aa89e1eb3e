#include "api/v1/seller_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::v1 {

namespace {

absl::StatusOr<std::string> BodyString(const Json& body, const char* field, bool required) {
  if (!body.is_object()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    "the request body must be a JSON object");
  }
  if (!body.contains(field) || body[field].is_null()) {
    if (!required) return std::string();
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    fmt::format("{} is required", field));
  }
  if (!body[field].is_string()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    fmt::format("{} must be a string", field));
  }
  return body[field].get<std::string>();
}

}  // namespace

void AddSellerRoutes(V1Api& api, commerce::SellerService& sellers) {
  api.AddRoute("POST", "/api/v1/sellers", [&sellers](const Call& c) -> absl::StatusOr<Reply> {
    commerce::SellerRegistration r;
    ASSIGN_OR_RETURN(r.legal_name, BodyString(c.body, "LegalName", true));
    ASSIGN_OR_RETURN(r.email, BodyString(c.body, "Email", true));
    ASSIGN_OR_RETURN(r.country, BodyString(c.body, "Country", true));
    ASSIGN_OR_RETURN(r.state, BodyString(c.body, "State", false));
    ASSIGN_OR_RETURN(r.bank_account, BodyString(c.body, "BankAccount", true));
    ASSIGN_OR_RETURN(r.bank_routing, BodyString(c.body, "BankRouting", true));
    ASSIGN_OR_RETURN(commerce::Seller s, sellers.Register(c.principal.account_id, std::move(r)));
    return Reply{200, commerce::SellerJson(s)};
  });
  api.AddRoute("GET", "/api/v1/sellers/me", [&sellers](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(commerce::Seller s, sellers.Get(c.principal.account_id));
    return Reply{200, commerce::SellerJson(s)};
  });
}

}  // namespace mercato::api::v1
