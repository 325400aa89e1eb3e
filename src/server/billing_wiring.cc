// Builds the billing part of the marketplace (marketplace.h): the infrastructure price
// list, listing fees, tax rates and billing addresses, price-change notices, month close
// (on demand and by a background thread), bills, refunds and disbursements.
//
// Offer changes reach billing at once through hooks.on_offer_changed (the products part calls
// it after every SetOffer); the closer's periodic SyncAll is the safety net (about a minute).
// Moving the test clock wakes the closer (hooks.on_clock_changed).
#include "api/v1/billing_routes.h"
#include "base/status.h"
#include "commerce/billing_closer.h"
#include "commerce/billing_service.h"
#include "commerce/price_changes.h"
#include "commerce/price_list.h"
#include "commerce/seller_service.h"
#include "commerce/tax_rates.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

class BillingPart final : public MarketplacePart {
 public:
  BillingPart(const MarketplaceDeps& deps, commerce::PriceChanges::Options change_options,
              commerce::BillingOptions billing_options)
      : sellers(deps.store, deps.clock, deps.master_key),
        prices(deps.store, deps.clock, sandbox::InstanceTypes::Default()),
        taxes(
            deps.store, deps.clock,
            [this](std::string_view account) -> std::optional<std::pair<std::string, std::string>> {
              absl::StatusOr<commerce::Seller> s = sellers.Get(account);
              if (!s.ok() || s->country.empty()) return std::nullopt;
              return std::make_pair(s->country, s->state);
            }),
        changes(deps.store, deps.clock, std::move(change_options)),
        billing(deps.store, deps.clock, prices, taxes, changes, std::move(billing_options)),
        closer(billing, changes, deps.clock, commerce::BillingCloser::Options{}) {}
  ~BillingPart() override { Stop(); }
  void Start() override { closer.Start(); }
  void Stop() override { closer.Stop(); }

  commerce::SellerService sellers;  // read-only here: addresses and masked payout details
  commerce::PriceList prices;
  commerce::TaxTable taxes;
  commerce::PriceChanges changes;
  commerce::BillingService billing;
  commerce::BillingCloser closer;
};

commerce::ProductLookup Products(MarketplaceContext& ctx) {
  MarketplaceContext* c = &ctx;
  return [c](std::string_view id) -> absl::StatusOr<commerce::BillingProduct> {
    if (!c->hooks.product) return absl::UnavailableError("the product catalog is not available");
    absl::StatusOr<ProductRef> r = c->hooks.product(id);
    if (!r.ok()) return r.status();
    return commerce::BillingProduct{.product_id = r->product_id,
                                    .product_code = r->product_code,
                                    .title = r->title,
                                    .seller_account = r->seller_account,
                                    .test_accounts = r->test_accounts,
                                    .offer = r->offer.is_null() ? Json::object() : r->offer};
  };
}

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildBillingPart(MarketplaceContext& ctx) {
  MarketplaceContext* c = &ctx;
  commerce::PriceChanges::Options co;
  co.product = Products(ctx);
  co.notify = [c](std::string_view account, std::string_view type, std::string_view subject,
                  std::string_view message, const Json& data) {
    if (!c->hooks.notify) {
      spdlog::warn("notification {} for account {} dropped: notifications not available", type,
                   account);
      return;
    }
    c->hooks.notify(account, type, subject, message, data);
  };
  commerce::BillingOptions bo;
  bo.product = co.product;
  bo.flush_usage = [c]() -> absl::Status {
    return c->hooks.flush_usage ? c->hooks.flush_usage() : absl::OkStatus();
  };
  auto part = std::make_unique<BillingPart>(ctx.deps, std::move(co), std::move(bo));
  BillingPart* p = part.get();
  p->billing.set_payout_view([p](std::string_view seller) -> absl::StatusOr<Json> {
    ASSIGN_OR_RETURN(commerce::Seller s, p->sellers.Get(seller));
    return Json{{"BankAccount", s.bank_account_mask}, {"BankRouting", s.bank_routing_mask}};
  });
  api::v1::AddBillingRoutes(ctx.deps.v1, {p->billing, p->prices, p->taxes, p->changes});
  ctx.hooks.on_offer_changed = [p](std::string_view product_id) {
    absl::StatusOr<int> n = p->changes.OnOfferChanged(product_id);
    if (!n.ok()) spdlog::warn("billing: offer change of {}: {}", product_id, n.status().ToString());
  };
  ctx.hooks.on_clock_changed.push_back([p] { p->closer.Wake(); });
  return part;
}

}  // namespace mercato::server
