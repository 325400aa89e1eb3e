#include "commerce/dataset.h"

#include <cstdlib>

#include "absl/time/time.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

// The buyer columns every per-customer data set starts with (AWS's daily business report
// names them so; state and country are the buyer's tax address, "" until billed once).
#define MERCATO_CUSTOMER_COLUMNS "Customer Reference ID", "User's State", "User's Country"
#define MERCATO_PRODUCT_COLUMNS "Product Title", "Product Code"

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

absl::Status BadDate(std::string_view text, std::string_view want) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidDate",
                  fmt::format("'{}' is not a valid {}", text, want));
}

std::string CsvField(const std::string& f) {
  if (f.find_first_of(",\"\r\n") == std::string::npos) return f;
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void AppendCsvLine(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += CsvField(fields[i]);
  }
  out += '\n';
}

}  // namespace

const std::vector<DataSetSpec>& DataSetSpecs() {
  static const std::vector<DataSetSpec> kSpecs = {
      {"daily_business_usage_by_instance_type",
       PeriodKind::kDay,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Use", "Instance Type", "Usage Units",
        "Usage Unit Type"}},
      {"daily_business_fees",
       PeriodKind::kDay,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Use", "Instance Type", "Pricing",
        "Customer Fee Amount (Estimated)", "Currency"}},
      {"daily_business_free_trial_conversions",
       PeriodKind::kDay,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Free Trial Start Date",
        "Free Trial End Date", "Converted to Paid"}},
      {"daily_business_new_instances",
       PeriodKind::kDay,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Use", "Instance Type",
        "Count of New Instances"}},
      {"daily_business_new_product_subscribers",
       PeriodKind::kDay,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Subscription Date", "Ref Tag",
        "Free Trial End Date"}},
      {"daily_business_canceled_product_subscribers",
       PeriodKind::kDay,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Subscription Date",
        "Cancellation Date"}},
      {"customer_subscriber_hourly_monthly_subscriptions",
       PeriodKind::kMonth,
       {MERCATO_CUSTOMER_COLUMNS, MERCATO_PRODUCT_COLUMNS, "Subscription Start Date",
        "Subscription End Date", "Free Trial End Date"}},
      {"monthly_revenue_billing_and_revenue_data",
       PeriodKind::kMonth,
       {"Transaction Reference ID", "Document Type", MERCATO_CUSTOMER_COLUMNS,
        MERCATO_PRODUCT_COLUMNS, "Customer Billed Amount", "AWS Listing Fee", "Partner Revenue",
        "Currency"}},
      {"disbursed_amount_by_product",
       PeriodKind::kDisbursement,
       {"Disbursement ID", "Disbursement Date", MERCATO_PRODUCT_COLUMNS, "Gross Revenue", "Refunds",
        "Listing Fee", "Disbursed Amount", "Currency"}},
      {"disbursed_amount_by_customer_geo",
       PeriodKind::kDisbursement,
       {"Disbursement ID", "Disbursement Date", MERCATO_PRODUCT_COLUMNS, "Customer Country",
        "Customer State", "Gross Revenue", "Refunds", "Listing Fee", "Disbursed Amount",
        "Currency"}},
      {"disbursed_amount_by_instance_hours",
       PeriodKind::kDisbursement,
       {"Disbursement ID", "Disbursement Date", MERCATO_PRODUCT_COLUMNS, "Use", "Instance Type",
        "Pricing", "Instance Hours", "Gross Revenue", "Refunds", "Listing Fee", "Disbursed Amount",
        "Currency"}},
      {"us_sales_and_use_tax_records",
       PeriodKind::kMonth,
       {"Transaction Reference ID", "Document Type", "Customer Reference ID", "Tax Country",
        "Tax State", MERCATO_PRODUCT_COLUMNS, "Taxable Amount", "Tax Rate", "Tax Amount",
        "Currency"}},
      {"daily_business_ref_tags",
       PeriodKind::kDay,
       {MERCATO_PRODUCT_COLUMNS, "Ref Tag", "Visits", "Unique Visitors", "New Subscriptions"}},
      {"weekly_business_ref_tags",
       PeriodKind::kWeek,
       {MERCATO_PRODUCT_COLUMNS, "Ref Tag", "Visits", "Unique Visitors", "New Subscriptions"}},
  };
  return kSpecs;
}

const DataSetSpec* FindDataSetSpec(std::string_view name) {
  for (const DataSetSpec& s : DataSetSpecs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string DataSetCsv(const DataSet& data_set) {
  std::string out;
  AppendCsvLine(out, data_set.columns);
  for (const auto& row : data_set.rows) AppendCsvLine(out, row);
  return out;
}

Json DataSetJson(const DataSet& data_set) {
  Json rows = Json::array();
  for (const auto& row : data_set.rows) {
    Json r = Json::object();
    for (size_t i = 0; i < data_set.columns.size() && i < row.size(); ++i) {
      r[data_set.columns[i]] = row[i];
    }
    rows.push_back(std::move(r));
  }
  return Json{{"DataSetType", data_set.type},
              {"Period", data_set.period},
              {"Columns", data_set.columns},
              {"Rows", std::move(rows)}};
}

absl::StatusOr<absl::CivilDay> ParseReportDay(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2)) || !AllDigits(text.substr(8, 2))) {
    return BadDate(text, "date (YYYY-MM-DD)");
  }
  int y = std::atoi(std::string(text.substr(0, 4)).c_str());
  int m = std::atoi(std::string(text.substr(5, 2)).c_str());
  int d = std::atoi(std::string(text.substr(8, 2)).c_str());
  absl::CivilDay day(y, m, d);
  // CivilDay normalizes 2026-02-30 to March; refuse instead.
  if (day.year() != y || day.month() != m || day.day() != d) {
    return BadDate(text, "date (YYYY-MM-DD)");
  }
  return day;
}

absl::StatusOr<absl::CivilMonth> ParseReportMonth(std::string_view text) {
  if (text.size() != 7 || text[4] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2))) {
    return BadDate(text, "month (YYYY-MM)");
  }
  int y = std::atoi(std::string(text.substr(0, 4)).c_str());
  int m = std::atoi(std::string(text.substr(5, 2)).c_str());
  if (m < 1 || m > 12) return BadDate(text, "month (YYYY-MM)");
  return absl::CivilMonth(y, m);
}

namespace {
int64_t Micros(absl::CivilSecond t) {
  return absl::ToUnixMicros(absl::FromCivil(t, absl::UTCTimeZone()));
}
std::string DayText(absl::CivilDay d) {
  return fmt::format("{:04d}-{:02d}-{:02d}", d.year(), d.month(), d.day());
}
}  // namespace

ReportPeriod DayPeriod(absl::CivilDay day) {
  return {Micros(day), Micros(day + 1), DayText(day), ""};
}

ReportPeriod WeekPeriod(absl::CivilDay any_day_of_week) {
  absl::CivilDay monday = any_day_of_week;
  while (absl::GetWeekday(monday) != absl::Weekday::monday) monday -= 1;
  absl::CivilDay sunday = monday + 6;
  return {Micros(monday), Micros(monday + 7),
          fmt::format("{}..{}", DayText(monday), DayText(sunday)), ""};
}

ReportPeriod MonthPeriod(absl::CivilMonth month) {
  std::string label = fmt::format("{:04d}-{:02d}", month.year(), month.month());
  return {Micros(month), Micros(month + 1), label, label};
}

std::string FormatDay(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

std::string FormatTime(int64_t micros) {
  if (micros == 0) return "";
  return FormatIso8601(absl::FromUnixMicros(micros));
}

std::string FormatUsd6(int64_t micros) {
  // Through unsigned so that INT64_MIN does not overflow on negation.
  uint64_t abs = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  return fmt::format("{}{}.{:06d}", micros < 0 ? "-" : "", abs / 1000000, abs % 1000000);
}

std::string FormatMillionths(int64_t value) { return FormatUsd6(value); }

std::string FormatInstanceHours(int64_t micros) {
  // micro-hours = micros / 3600, half-up.
  int64_t micro_hours = (micros + 1800) / 3600;
  return FormatMillionths(micro_hours);
}

int64_t ScalePpm(int64_t amount, int64_t ppm) {
  __int128 product = static_cast<__int128>(amount) * ppm;
  __int128 abs = product < 0 ? -product : product;
  __int128 rounded = (abs + 500000) / 1000000;
  return static_cast<int64_t>(product < 0 ? -rounded : rounded);
}

std::string DeriveCustomerKey(std::string_view master_key) {
  return HmacSha256(master_key, "mercato/commerce/customer-reference-id/v1");
}

std::string CustomerReferenceId(std::string_view key, std::string_view account) {
  return HexEncode(HmacSha256(key, account)).substr(0, 32);
}

}  // namespace mercato::commerce
