// Billing documents and the money arithmetic every billing step shares (issue 6).
//
// Money is int64 micro-USD; rates are parts per million (ppm, 20 % = 200000); times are
// int64 micros since the epoch; months are UTC calendar months "YYYY-MM". Rounding is
// integer half-up and happens once per invoice line (LineAmount), once per invoice for tax
// (ApplyPpm) and once per seller-month for the listing fee, never per usage record, so
// every figure is exactly reproducible by hand.
// Pure data and stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace mercato::commerce {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kPpm = 1'000'000;

// Usage kinds (usage_records.use) and what an invoice line counts.
inline constexpr std::string_view kUseInference = "Inference";
inline constexpr std::string_view kUnitSeconds = "Seconds";        // unit_price per hour
inline constexpr std::string_view kUnitInferences = "Inferences";  // unit_price per inference

// Pricing of a software line.
inline constexpr std::string_view kPaid = "Paid";
inline constexpr std::string_view kFreeTrial = "FreeTrial";
inline constexpr std::string_view kTestAccount = "TestAccount";
inline constexpr std::string_view kFree = "Free";

struct InvoiceLine {
  int64_t line_no = 0;
  std::string kind;  // Software | Infrastructure
  std::string product_id;
  std::string seller_account;
  std::string subscription_id;
  std::string use;            // Endpoint | Transform | Training | Inference ('' on refunds)
  std::string instance_type;  // '' for Inference
  std::string pricing;        // Paid | FreeTrial | TestAccount | Free
  int64_t quantity = 0;       // whole seconds or inferences
  std::string unit;           // Seconds | Inferences ('' on refund lines)
  int64_t unit_price = 0;     // micro-USD per hour or per inference
  int64_t amount = 0;         // micro-USD (negative on adjustments)
};

// An Invoice (kind "Invoice") or an Adjustment referring to one (negative amounts).
struct Invoice {
  std::string id;
  std::string buyer_account;
  std::string month;
  std::string kind;
  std::string refers_to;
  std::string reason;
  int64_t issued_at = 0;
  int64_t software_subtotal = 0;
  int64_t infrastructure_subtotal = 0;
  int64_t tax = 0;
  int64_t total = 0;
  std::string tax_country;
  std::string tax_state;
  int64_t tax_rate_ppm = 0;
  std::vector<InvoiceLine> lines;
};

struct Disbursement {
  std::string id;
  std::string seller_account;
  std::string month;
  int64_t software_revenue = 0;
  int64_t listing_fee = 0;
  int64_t refunds = 0;
  int64_t tax_collected = 0;
  int64_t amount = 0;  // software_revenue - listing_fee - refunds (may be negative: owed)
  int64_t created_at = 0;
};

// (quantity * unit_price + divisor/2) / divisor with divisor 3600 for Seconds and 1 for
// Inferences; computed in 128 bits so large months cannot overflow.
int64_t LineAmount(int64_t quantity, int64_t unit_price, std::string_view unit);
// (amount * ppm + 500000) / 1000000, half-up (amount ≥ 0).
int64_t ApplyPpm(int64_t amount, int64_t ppm);

// "2026-10" → [start, end) in micros; InvalidArgument "InvalidMonth" otherwise.
struct MonthRange {
  std::string month;
  int64_t start = 0;
  int64_t end = 0;
};
absl::StatusOr<MonthRange> ParseMonth(std::string_view month);
// The month containing `micros`.
MonthRange MonthOf(int64_t micros);

// Decimal rate strings: "0.065" → 65000 ppm (at most 6 decimals, 0 ≤ rate ≤ 1), and
// percentages "15" / "12.5" → ppm (at most 4 decimals, 0..100). InvalidArgument naming
// `field` otherwise.
absl::StatusOr<int64_t> ParseRatePpm(const Json& value, std::string_view field);
absl::StatusOr<int64_t> ParsePercentPpm(const Json& value, std::string_view field);
std::string FormatRate(int64_t ppm);     // 65000 → "0.065000"
std::string FormatPercent(int64_t ppm);  // 150000 → "15.0000"

// The API's shapes. Money fields are USD strings ("1.250000") plus "<Field>Micros" ints.
Json InvoiceJson(const Invoice& invoice, bool with_lines = true);
Json DisbursementJson(const Disbursement& d);

}  // namespace mercato::commerce
