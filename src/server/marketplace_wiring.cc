#include "base/status.h"
#include "server/marketplace.h"

namespace mercato::server {

absl::StatusOr<std::unique_ptr<Marketplace>> Marketplace::Build(MarketplaceDeps deps) {
  std::unique_ptr<Marketplace> m(new Marketplace());
  m->ctx_ = std::make_unique<MarketplaceContext>(MarketplaceContext{std::move(deps), {}});
  using Builder = absl::StatusOr<MarketplacePartPtr> (*)(MarketplaceContext&);
  std::vector<Builder> builders;
#ifdef MERCATO_HAVE_SELLERS
  builders.push_back(&BuildSellersPart);
#endif
#ifdef MERCATO_HAVE_PACKAGES
  builders.push_back(&BuildPackagesPart);
#endif
#ifdef MERCATO_HAVE_PRODUCTS
  builders.push_back(&BuildProductsPart);
#endif
#ifdef MERCATO_HAVE_SUBSCRIPTIONS
  builders.push_back(&BuildSubscriptionsPart);
#endif
#ifdef MERCATO_HAVE_METERING
  builders.push_back(&BuildMeteringPart);
#endif
#ifdef MERCATO_HAVE_BILLING
  builders.push_back(&BuildBillingPart);
#endif
#ifdef MERCATO_HAVE_REPORTS
  builders.push_back(&BuildReportsPart);
#endif
  builders.push_back(&BuildUsePart);
  for (Builder build : builders) {
    ASSIGN_OR_RETURN(MarketplacePartPtr part, build(*m->ctx_));
    m->parts_.push_back(std::move(part));
  }
  return m;
}

Marketplace::~Marketplace() { Stop(); }

void Marketplace::Start() {
  for (auto& part : parts_) part->Start();
}

void Marketplace::Stop() {
  // Later parts use earlier ones: stop in reverse.
  for (auto it = parts_.rbegin(); it != parts_.rend(); ++it) (*it)->Stop();
}

}  // namespace mercato::server
