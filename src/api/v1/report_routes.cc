#include "api/v1/report_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

const char* PeriodName(commerce::PeriodKind k) {
  switch (k) {
    case commerce::PeriodKind::kDay:
      return "day";
    case commerce::PeriodKind::kWeek:
      return "week";
    case commerce::PeriodKind::kMonth:
      return "month";
    case commerce::PeriodKind::kDisbursement:
      return "disbursement";
  }
  return "";
}

absl::Status CheckSeller(const std::function<absl::Status(std::string_view)>& require_seller,
                         std::string_view account) {
  if (!require_seller) return absl::UnavailableError("sellers are not available");
  return require_seller(account);
}

}  // namespace

void AddReportRoutes(V1Api& api, commerce::ReportService& reports,
                     std::function<absl::Status(std::string_view account)> require_seller) {
  api.AddRoute("GET", "/api/v1/sellers/me/reports",
               [require_seller](const Call& c) -> absl::StatusOr<Reply> {
                 RETURN_IF_ERROR(CheckSeller(require_seller, c.principal.account_id));
                 Json types = Json::array();
                 for (const commerce::DataSetSpec& s : commerce::DataSetSpecs()) {
                   Json cols = Json::array();
                   for (std::string_view col : s.columns) cols.push_back(std::string(col));
                   types.push_back({{"Name", std::string(s.name)},
                                    {"Period", PeriodName(s.period)},
                                    {"Columns", std::move(cols)}});
                 }
                 return Reply{200, {{"DataSetTypes", std::move(types)}}};
               });
  // A streaming route, so a CSV reply can be text/csv rather than JSON.
  api.AddStreamingRoute(
      "GET", "/api/v1/sellers/me/reports/{type}",
      [&reports, require_seller](const StreamingCall& c) -> absl::StatusOr<http::Response> {
        RETURN_IF_ERROR(CheckSeller(require_seller, c.principal.account_id));
        std::string format = c.request.QueryParam("format").value_or("json");
        if (format != "json" && format != "csv") {
          return AwsError(absl::StatusCode::kInvalidArgument, "InvalidFormat",
                          fmt::format("format must be json or csv, not '{}'", format));
        }
        commerce::ReportRequest req{.type = c.params.at("type"),
                                    .date = c.request.QueryParam("date").value_or(""),
                                    .month = c.request.QueryParam("month").value_or("")};
        ASSIGN_OR_RETURN(commerce::DataSet data, reports.Generate(c.principal.account_id, req));
        if (format == "json") return http::Response::Json(200, commerce::DataSetJson(data).dump());
        http::Response r =
            http::Response::Text(200, commerce::DataSetCsv(data), "text/csv; charset=utf-8");
        std::string period = data.period.substr(0, data.period.find(".."));
        r.SetHeader("Content-Disposition",
                    fmt::format("attachment; filename=\"{}_{}.csv\"", data.type, period));
        return r;
      });
}

}  // namespace mercato::api::v1
