#include "api/v1/billing_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

absl::Status RequireOperator(const Call& c) {
  if (c.principal.is_operator) return absl::OkStatus();
  return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                  "only the operator may do this");
}

absl::StatusOr<Reply> Ok(absl::StatusOr<Json> j) {
  if (!j.ok()) return j.status();
  return Reply{200, *std::move(j)};
}

// An operator-only route.
RouteFn Admin(std::function<absl::StatusOr<Json>(const Call&)> fn) {
  return [fn = std::move(fn)](const Call& c) -> absl::StatusOr<Reply> {
    RETURN_IF_ERROR(RequireOperator(c));
    return Ok(fn(c));
  };
}

RouteFn Any(std::function<absl::StatusOr<Json>(const Call&)> fn) {
  return [fn = std::move(fn)](const Call& c) -> absl::StatusOr<Reply> { return Ok(fn(c)); };
}

}  // namespace

void AddBillingRoutes(V1Api& api, BillingRouteDeps d) {
  commerce::BillingService& billing = d.billing;
  commerce::PriceList& prices = d.prices;
  commerce::TaxTable& taxes = d.taxes;
  commerce::PriceChanges& changes = d.changes;

  api.AddRoute("PUT", "/api/v1/admin/prices/infrastructure",
               Admin([&prices](const Call& c) { return prices.SetInfrastructure(c.body); }));
  api.AddRoute("GET", "/api/v1/admin/prices/infrastructure",
               Admin([&prices](const Call&) { return prices.InfrastructureJson(); }));
  api.AddRoute(
      "POST", "/api/v1/admin/billing/close-month",
      Admin([&billing](const Call& c) -> absl::StatusOr<Json> {
        if (!c.body.is_object() || !c.body.contains("Month") || !c.body["Month"].is_string()) {
          return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                          "{\"Month\": \"YYYY-MM\"} is required");
        }
        return billing.CloseMonth(c.body["Month"].get<std::string>());
      }));
  api.AddRoute("GET", "/api/v1/admin/billing/periods",
               Admin([&billing](const Call&) { return billing.Periods(); }));
  api.AddRoute("PUT", "/api/v1/admin/billing/tax-rates",
               Admin([&taxes](const Call& c) { return taxes.SetRates(c.body); }));
  api.AddRoute("GET", "/api/v1/admin/billing/tax-rates",
               Admin([&taxes](const Call&) { return taxes.RatesJson(); }));
  api.AddRoute("GET", "/api/v1/admin/billing/listing-fees",
               Admin([&prices](const Call&) { return prices.ListingFeesJson(); }));
  api.AddRoute("PUT", "/api/v1/admin/billing/listing-fees/{product}",
               Admin([&prices](const Call& c) {
                 return prices.SetListingFee(c.params.at("product"), c.body);
               }));
  api.AddRoute(
      "GET", "/api/v1/admin/billing/listing-fees/{product}",
      Admin([&prices](const Call& c) { return prices.ListingFeeJson(c.params.at("product")); }));
  api.AddRoute("POST", "/api/v1/admin/billing/refunds",
               Admin([&billing](const Call& c) -> absl::StatusOr<Json> {
                 ASSIGN_OR_RETURN(commerce::Invoice adj, billing.Refund(c.body));
                 return commerce::InvoiceJson(adj);
               }));
  api.AddRoute("GET", "/api/v1/admin/billing/invoices/{id}",
               Admin([&billing](const Call& c) -> absl::StatusOr<Json> {
                 ASSIGN_OR_RETURN(commerce::Invoice inv,
                                  billing.Bill(c.principal.account_id, c.params.at("id"), true));
                 return commerce::InvoiceJson(inv);
               }));

  api.AddRoute("PUT", "/api/v1/billing/address", Any([&taxes](const Call& c) {
                 return taxes.SetAddress(c.principal.account_id, c.body);
               }));
  api.AddRoute(
      "GET", "/api/v1/billing/address", Any([&taxes](const Call& c) -> absl::StatusOr<Json> {
        ASSIGN_OR_RETURN(commerce::BillingAddress a, taxes.AddressOf(c.principal.account_id));
        return commerce::AddressJson(c.principal.account_id, a);
      }));
  api.AddRoute("GET", "/api/v1/bills", Any([&billing](const Call& c) -> absl::StatusOr<Json> {
                 std::optional<std::string> month = c.request.QueryParam("month");
                 if (month && month->empty()) month.reset();
                 ASSIGN_OR_RETURN(auto list, billing.Bills(c.principal.account_id, month));
                 Json out = Json::array();
                 for (const auto& inv : list) out.push_back(commerce::InvoiceJson(inv, false));
                 return Json{{"Bills", out}};
               }));
  api.AddRoute("GET", "/api/v1/bills/{id}", Any([&billing](const Call& c) -> absl::StatusOr<Json> {
                 ASSIGN_OR_RETURN(commerce::Invoice inv,
                                  billing.Bill(c.principal.account_id, c.params.at("id"), false));
                 return commerce::InvoiceJson(inv);
               }));
  api.AddRoute("GET", "/api/v1/sellers/me/disbursements", Any([&billing](const Call& c) {
                 return billing.DisbursementsJson(c.principal.account_id);
               }));
  api.AddRoute("GET", "/api/v1/subscriptions/{id}/prices", Any([&changes](const Call& c) {
                 return changes.TimelineJson(c.principal.account_id, c.params.at("id"));
               }));
}

}  // namespace mercato::api::v1
