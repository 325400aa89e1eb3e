#include "api/marketplace/commerce_analytics_actions.h"

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::marketplace {

void AddCommerceAnalyticsActions(
    MarketplaceApi& api, commerce::DataSetPublisher& publisher,
    std::function<absl::Status(std::string_view account)> require_seller) {
  const std::string prefix = kCommerceAnalyticsPrefix;
  api.AddService(prefix, "MarketplaceCommerceAnalyticsException");
  api.AddAction(prefix + ".GenerateDataSet",
                [&publisher, require_seller](const auth::Principal& p,
                                             const Json& in) -> absl::StatusOr<Json> {
                  if (!require_seller) return absl::UnavailableError("sellers are not available");
                  if (absl::Status s = require_seller(p.account_id); !s.ok()) {
                    return absl::PermissionDeniedError(
                        fmt::format("AccessDenied: {}", std::string(s.message())));
                  }
                  ASSIGN_OR_RETURN(commerce::GenerateDataSetInput input,
                                   commerce::ParseGenerateDataSetInput(in));
                  ASSIGN_OR_RETURN(commerce::PublishedDataSet out,
                                   publisher.Generate(p.account_id, input));
                  return Json{{"dataSetRequestId", out.request_id}};
                });
  api.AddAction(prefix + ".StartSupportDataExport",
                [](const auth::Principal&, const Json&) -> absl::StatusOr<Json> {
                  return absl::InvalidArgumentError(
                      "StartSupportDataExport has been deprecated and is not supported.");
                });
}

}  // namespace mercato::api::marketplace
