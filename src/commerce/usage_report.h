// Usage report: a buyer's metered usage in one UTC month (usage_records, see meter.h) with a
// running cost estimate, for GET /api/v1/usage and `mercato usage`.
//
// Rows are grouped by product, subscription, resource, use, instance type and pricing:
//   Paid        the subscription's price in that hour applies: its offer snapshot
//               (PricingMicros), or the billing part's latest accepted price change
//               (subscription_offer_changes) effective at or before the hour
//   FreeTrial   an hourly use in an hour that overlaps the subscription's free trial
//   TestAccount the buyer is one of the product's test accounts
//   Free        the offer has no price for this use / instance type
//   None        not a marketplace use (infrastructure only)
// Amounts follow the billing rounding rule, per row: instance time is whole seconds
// (floor of the summed microseconds) × price per hour / 3600 rounded half up; inferences are
// units × price per inference. Infrastructure prices come from the billing part's
// infrastructure_prices table when it exists (absent → zero). Figures are an estimate: the
// invoice at month close is authoritative.
//
// Output: {"Month", "AccountId", "MeteredThrough": ISO|null, "Rows": [{"ProductId",
//   "SubscriptionId", "SellerAccount", "ResourceArn", "Use", "InstanceType", "Pricing",
//   "Unit": "Seconds"|"Inferences", "Quantity": "9000.000000" | 1234,
//   "SoftwareUnitPrice", "SoftwareCost", "InfrastructureUnitPrice", "InfrastructureCost"}],
//  "SoftwareCost", "InfrastructureCost", "TotalCost"} — money as decimal USD strings.
// Pure reads; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct UsageMonth {
  std::string month;  // "2026-11"
  int64_t start = 0;  // micros, inclusive
  int64_t end = 0;    // micros, exclusive
};

// "YYYY-MM" → its UTC bounds; InvalidArgument (ValidationError) otherwise.
absl::StatusOr<UsageMonth> ParseUsageMonth(std::string_view month);
// The UTC month containing `t`.
UsageMonth UsageMonthOf(absl::Time t);

absl::StatusOr<Json> UsageReport(MetadataStore& store, std::string_view account,
                                 const UsageMonth& month);

}  // namespace mercato::commerce
