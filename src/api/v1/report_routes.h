// Native API routes for the sellers' business reports (commerce/report_service.h):
//   GET /api/v1/sellers/me/reports
//       → {"DataSetTypes": [{"Name", "Period": "day"|"week"|"month"|"disbursement",
//                            "Columns": [...]}]}
//   GET /api/v1/sellers/me/reports/{dataSetType}?date=YYYY-MM-DD | ?month=YYYY-MM
//       [&format=json|csv]
//       → json (default): {"DataSetType","Period","Columns","Rows":[{column: value}]};
//         csv: text/csv with a header line, Content-Disposition naming
//         {dataSetType}_{period}.csv.
// Only registered sellers (`require_seller`; 403 SellerNotRegistered-style errors pass
// through as the hook returns them). Errors: 400 UnknownDataSetType, InvalidDate,
// InvalidFormat. The function only registers routes; they borrow the service.
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "api/v1/v1_api.h"
#include "commerce/report_service.h"

namespace mercato::api::v1 {

void AddReportRoutes(V1Api& api, commerce::ReportService& reports,
                     std::function<absl::Status(std::string_view account)> require_seller);

}  // namespace mercato::api::v1
