// MarketplaceCommerceAnalytics20150701 on the marketplace facade: GenerateDataSet
// (commerce/dataset_publisher.h) for registered sellers. StartSupportDataExport, which AWS
// has retired, is answered as unsupported. The function only registers actions; they
// borrow the publisher and call `require_seller` (OK for a registered seller) per request.
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "api/marketplace/marketplace_api.h"
#include "commerce/dataset_publisher.h"

namespace mercato::api::marketplace {

inline constexpr char kCommerceAnalyticsPrefix[] = "MarketplaceCommerceAnalytics20150701";

void AddCommerceAnalyticsActions(
    MarketplaceApi& api, commerce::DataSetPublisher& publisher,
    std::function<absl::Status(std::string_view account)> require_seller);

}  // namespace mercato::api::marketplace
