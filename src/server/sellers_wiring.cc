// Builds the sellers part of the marketplace (marketplace.h): seller registration,
// notifications and their webhook dispatcher. Provides the hooks require_seller and notify.
#include "api/v1/notification_routes.h"
#include "api/v1/seller_routes.h"
#include "base/aead.h"
#include "commerce/notification_service.h"
#include "commerce/seller_service.h"
#include "commerce/webhook_dispatcher.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

class SellersPart final : public MarketplacePart {
 public:
  explicit SellersPart(const MarketplaceDeps& deps)
      : sellers(deps.store, deps.clock, deps.master_key),
        notifications(deps.store, deps.clock),
        dispatcher(deps.store, deps.clock, {}) {
    notifications.set_on_enqueued([this] { dispatcher.Wake(); });
  }
  ~SellersPart() override { Stop(); }
  void Start() override { dispatcher.Start(); }
  void Stop() override { dispatcher.Stop(); }

  commerce::SellerService sellers;
  commerce::NotificationService notifications;
  commerce::WebhookDispatcher dispatcher;
};

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildSellersPart(MarketplaceContext& ctx) {
  if (ctx.deps.master_key.size() != kAeadKeySize) {
    return absl::InvalidArgumentError("sellers: the master key must be 32 bytes");
  }
  auto part = std::make_unique<SellersPart>(ctx.deps);
  SellersPart* p = part.get();
  ctx.hooks.require_seller = [p](std::string_view account) {
    return p->sellers.RequireSeller(account);
  };
  ctx.hooks.notify = [p](std::string_view account, std::string_view type, std::string_view subject,
                         std::string_view message, const Json& data) {
    auto n = p->notifications.Notify(account, type, subject, message, data);
    if (!n.ok()) {
      spdlog::error("notification {} for account {} not recorded: {}", type, account,
                    n.status().ToString());
    }
  };
  api::v1::AddSellerRoutes(ctx.deps.v1, p->sellers);
  api::v1::AddNotificationRoutes(ctx.deps.v1, p->notifications);
  return part;
}

}  // namespace mercato::server
