#include "api/v1/usage_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "commerce/usage_report.h"

namespace mercato::api::v1 {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::StatusOr<Json> MeteringState(MetadataStore& store, commerce::Meter& meter) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store.Query("SELECT value FROM meter_state WHERE name = 'metered_through'"));
  Json through = nullptr;
  if (!rows.empty()) through = FormatIso8601(absl::FromUnixMicros(rows[0].Int(0)));
  return Json{{"InferenceMetering", meter.inferences_enabled()}, {"MeteredThrough", through}};
}

}  // namespace

void AddUsageRoutes(V1Api& api, MetadataStore& store, const Clock& clock, commerce::Meter* meter) {
  api.AddRoute("GET", "/api/v1/usage", [&store, &clock](const Call& c) -> absl::StatusOr<Reply> {
    commerce::UsageMonth month = commerce::UsageMonthOf(clock.Now());
    if (auto m = c.request.QueryParam("month"); m && !m->empty()) {
      ASSIGN_OR_RETURN(month, commerce::ParseUsageMonth(*m));
    }
    std::string account = c.principal.account_id;
    if (auto a = c.request.QueryParam("account"); a && !a->empty() && *a != account) {
      if (!c.principal.is_operator) {
        return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                        "only the operator may read another account's usage");
      }
      account = *a;
    }
    ASSIGN_OR_RETURN(Json report, commerce::UsageReport(store, account, month));
    return Reply{200, std::move(report)};
  });
  auto admin = [&store, meter](const Call& c) -> absl::StatusOr<Reply> {
    if (!c.principal.is_operator) {
      return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                      "only the operator may read or change metering");
    }
    if (meter == nullptr) {
      return AwsError(absl::StatusCode::kUnavailable, "ServiceUnavailable",
                      "metering is not running");
    }
    if (c.request.method == "PUT") {
      if (!c.body.is_object() || !c.body.contains("InferenceMetering") ||
          !c.body["InferenceMetering"].is_boolean()) {
        return Invalid("give {\"InferenceMetering\": true|false}");
      }
      meter->SetInferencesEnabled(c.body["InferenceMetering"].get<bool>());
    }
    ASSIGN_OR_RETURN(Json state, MeteringState(store, *meter));
    return Reply{200, std::move(state)};
  };
  api.AddRoute("GET", "/api/v1/admin/metering", admin);
  api.AddRoute("PUT", "/api/v1/admin/metering", admin);
}

}  // namespace mercato::api::v1
