// Data sets: the sellers' business reports (the AWS Marketplace Commerce Analytics data set
// types), as a fixed column list plus rows of strings, rendered as CSV (RFC 4180) or JSON.
// Also the pieces every data set shares: the catalog of data set types with their columns
// and period kind, report periods (UTC day, ISO week, calendar month), exact money
// formatting (micro-USD → "12.500000") and the customer reference id that stands for a buyer
// (an HMAC of the account id, never the id or name itself).
// Pure functions and plain values; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "base/json.h"

namespace mercato::commerce {

// What a data set covers: one UTC day, the ISO week (Monday..Sunday) holding a day, a UTC
// calendar month, or the month of a disbursement (given as a month, or found from a day).
enum class PeriodKind { kDay, kWeek, kMonth, kDisbursement };

struct DataSetSpec {
  std::string_view name;  // e.g. "daily_business_usage_by_instance_type"
  PeriodKind period;
  std::vector<std::string_view> columns;
};

// Every data set type Mercato produces, in a stable order.
const std::vector<DataSetSpec>& DataSetSpecs();
// The spec named `name`, or nullptr.
const DataSetSpec* FindDataSetSpec(std::string_view name);

struct DataSet {
  std::string type;
  std::string period;  // "2026-11-03", "2026-W45 (2026-11-02..2026-11-08)", "2026-11"
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each the size of `columns`
};

// Header line then one line per row, "\n"-terminated; fields with a comma, quote, CR or LF
// are quoted, quotes doubled.
std::string DataSetCsv(const DataSet& data_set);
// {"DataSetType", "Period", "Columns": [...], "Rows": [{column: value, ...}, ...]}.
Json DataSetJson(const DataSet& data_set);

// [start, end) in micros since the epoch, UTC.
struct ReportPeriod {
  int64_t start = 0;
  int64_t end = 0;
  std::string label;
  std::string month;  // "YYYY-MM" for month periods, else ""
};

// Strict "YYYY-MM-DD" / "YYYY-MM"; InvalidArgument (code InvalidDate) otherwise.
absl::StatusOr<absl::CivilDay> ParseReportDay(std::string_view text);
absl::StatusOr<absl::CivilMonth> ParseReportMonth(std::string_view text);
ReportPeriod DayPeriod(absl::CivilDay day);
ReportPeriod WeekPeriod(absl::CivilDay any_day_of_week);
ReportPeriod MonthPeriod(absl::CivilMonth month);
std::string FormatDay(int64_t micros);   // "2026-11-03" (UTC)
std::string FormatTime(int64_t micros);  // ISO 8601, "" for 0

// Micro-USD as a decimal string with exactly 6 places: -1500000 → "-1.500000".
std::string FormatUsd6(int64_t micros);
// A non-negative quantity in millionths as a decimal with 6 places: 2500000 → "2.500000".
std::string FormatMillionths(int64_t value);
// Micro-seconds of instance time as hours with 6 places, rounded half-up to the
// micro-hour: 9000000000 → "2.500000".
std::string FormatInstanceHours(int64_t micros);
// amount * ppm / 1e6 rounded half away from zero (exact for any int64 amount).
int64_t ScalePpm(int64_t amount, int64_t ppm);

// The key customer reference ids are made with, derived from the master key so that ids
// are stable across restarts and meaningless without the key.
std::string DeriveCustomerKey(std::string_view master_key);
// 32 lower-case hex characters: HMAC-SHA256(key, account) truncated.
std::string CustomerReferenceId(std::string_view key, std::string_view account);

}  // namespace mercato::commerce
