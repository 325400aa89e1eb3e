// Builds the reports part of the marketplace (marketplace.h): the sellers' business
// reports on the native API and Commerce Analytics' GenerateDataSet on the marketplace JSON
// facade. Provides no hooks; calls require_seller and notify at run time.
//
// The facade (api/marketplace/marketplace_api.h) is owned by the server, which installs it
// in the dispatcher for ApiKind::kMarketplace and passes it as
// MarketplaceDeps::marketplace_api; until the deps carry one, GenerateDataSet is not served
// (logged once at build time) and everything else works.
#include "api/marketplace/commerce_analytics_actions.h"
#include "api/marketplace/marketplace_api.h"
#include "api/v1/report_routes.h"
#include "commerce/dataset.h"
#include "commerce/dataset_publisher.h"
#include "commerce/report_service.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

// The facade from the deps, when this build's MarketplaceDeps has the member.
template <typename Deps>
api::marketplace::MarketplaceApi* FacadeOf(Deps& deps) {
  if constexpr (requires { deps.marketplace_api; }) {
    return deps.marketplace_api;
  } else {
    return nullptr;
  }
}

commerce::PublisherOptions PublisherOptionsFor(MarketplaceContext& ctx) {
  MarketplaceContext* c = &ctx;
  commerce::PublisherOptions o;
  o.check_bucket = [c](std::string_view account, std::string_view bucket) {
    return c->deps.objects.CheckBucket(account, bucket);
  };
  o.put_object = [c](std::string_view account, std::string_view bucket, std::string_view key,
                     std::string_view content_type, std::string_view data) {
    return c->deps.objects.PutBytes(account, bucket, key, content_type, data).status();
  };
  o.notify = [c](std::string_view account, std::string_view type, std::string_view subject,
                 std::string_view message, const Json& data) {
    if (c->hooks.notify) {
      c->hooks.notify(account, type, subject, message, data);
    } else {
      spdlog::warn("reports: notification {} for {} dropped: notifications not available", type,
                   account);
    }
  };
  return o;
}

class ReportsPart final : public MarketplacePart {
 public:
  explicit ReportsPart(MarketplaceContext& ctx)
      : reports(ctx.deps.store, {.customer_key = commerce::DeriveCustomerKey(ctx.deps.master_key)}),
        publisher(ctx.deps.store, ctx.deps.clock, reports, PublisherOptionsFor(ctx)) {}

  commerce::ReportService reports;
  commerce::DataSetPublisher publisher;
};

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildReportsPart(MarketplaceContext& ctx) {
  auto part = std::make_unique<ReportsPart>(ctx);
  MarketplaceContext* c = &ctx;
  auto require_seller = [c](std::string_view account) -> absl::Status {
    if (!c->hooks.require_seller) return absl::UnavailableError("sellers are not available");
    return c->hooks.require_seller(account);
  };
  api::v1::AddReportRoutes(ctx.deps.v1, part->reports, require_seller);
  if (api::marketplace::MarketplaceApi* facade = FacadeOf(ctx.deps)) {
    api::marketplace::AddCommerceAnalyticsActions(*facade, part->publisher, require_seller);
  } else {
    spdlog::info("reports: no marketplace API facade; GenerateDataSet is not served");
  }
  return part;
}

}  // namespace mercato::server
