// Builds the subscriptions part of the marketplace (marketplace.h): subscriptions, the
// entitlement hooks (check_entitlement, is_subscriber, can_view_package,
// on_product_removed), the removal-grace sweeper and, under --test-clock, the operator's
// clock routes (which wake the sweeper after each change).
#include "api/v1/admin_routes.h"
#include "api/v1/subscription_routes.h"
#include "commerce/subscription_service.h"
#include "commerce/subscription_sweeper.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

class SubscriptionsPart final : public MarketplacePart {
 public:
  SubscriptionsPart(const MarketplaceDeps& deps, commerce::SubscriptionOptions options)
      : service(deps.store, deps.clock, std::move(options)), sweeper(service) {}
  ~SubscriptionsPart() override { Stop(); }
  void Start() override { sweeper.Start(); }
  void Stop() override { sweeper.Stop(); }

  commerce::SubscriptionService service;
  commerce::SubscriptionSweeper sweeper;
};

commerce::ProductInfo ToProductInfo(const ProductRef& r) {
  return commerce::ProductInfo{.product_id = r.product_id,
                               .product_code = r.product_code,
                               .title = r.title,
                               .seller_account = r.seller_account,
                               .visibility = r.visibility,
                               .allow_list = r.allow_list,
                               .test_accounts = r.test_accounts,
                               .offer = r.offer.is_null() ? Json::object() : r.offer,
                               .eula = r.eula};
}

// Adapts the other parts' hooks, read at call time (they may be filled after this part).
commerce::SubscriptionOptions Options(MarketplaceContext& ctx) {
  MarketplaceContext* c = &ctx;
  commerce::SubscriptionOptions o;
  o.product = [c](std::string_view key) -> absl::StatusOr<commerce::ProductInfo> {
    if (!c->hooks.product) return absl::UnavailableError("the product catalog is not available");
    absl::StatusOr<ProductRef> r = c->hooks.product(key);
    if (!r.ok()) return r.status();
    return ToProductInfo(*r);
  };
  o.notify = [c](std::string_view account, std::string_view type, std::string_view subject,
                 std::string_view message, const Json& data) {
    if (!c->hooks.notify) {
      spdlog::warn("notification {} for account {} dropped: notifications not available", type,
                   account);
      return;
    }
    c->hooks.notify(account, type, subject, message, data);
  };
  o.stop_product_use = [c](std::string_view account, std::string_view product,
                           std::string_view reason) -> absl::Status {
    if (!c->hooks.stop_product_use) {
      return absl::UnavailableError("stopping product use is not available");
    }
    return c->hooks.stop_product_use(account, product, reason);
  };
  o.removal_grace_days = ctx.deps.removal_grace_days;
  return o;
}

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildSubscriptionsPart(MarketplaceContext& ctx) {
  auto part = std::make_unique<SubscriptionsPart>(ctx.deps, Options(ctx));
  SubscriptionsPart* p = part.get();
  MarketplaceContext* c = &ctx;
  ctx.hooks.check_entitlement = [p](std::string_view account, std::string_view product_id) {
    return p->service.CheckEntitlement(account, product_id);
  };
  ctx.hooks.subscribed_since = [p](std::string_view account, std::string_view product_id) {
    return p->service.ActiveSince(account, product_id);
  };
  ctx.hooks.is_subscriber = [p](std::string_view account, std::string_view product_id) {
    return p->service.IsSubscriber(account, product_id);
  };
  ctx.hooks.can_view_package = [p, c](std::string_view caller,
                                      std::string_view arn) -> absl::Status {
    if (!c->hooks.version_by_arn) {
      return absl::UnavailableError("the product catalog is not available");
    }
    absl::StatusOr<VersionRef> v = c->hooks.version_by_arn(arn);
    if (!v.ok()) return v.status();
    return p->service.CanView(caller, v->product_id, v->restricted);
  };
  ctx.hooks.on_product_removed = [p](std::string_view product_id) {
    absl::Status s = p->service.OnProductRemoved(product_id);
    if (!s.ok()) {
      spdlog::error("starting the removal grace period of product {}: {}", product_id,
                    s.ToString());
    }
    p->sweeper.Wake();
  };
  api::v1::AddSubscriptionRoutes(ctx.deps.v1, p->service);
  if (ctx.deps.test_clock != nullptr) {
    ctx.hooks.on_clock_changed.push_back([p] { p->sweeper.Wake(); });
    MarketplaceHooks* hooks = &ctx.hooks;
    api::v1::AddAdminClockRoutes(ctx.deps.v1, *ctx.deps.test_clock, [hooks] {
      for (const auto& wake : hooks->on_clock_changed) wake();
    });
  }
  return part;
}

}  // namespace mercato::server
