// Offers: the prices and free-trial length a seller attaches to a product, validated and
// normalized here (applied to usage in the commerce issue). Pure functions; thread-safe.
//
// Input (native API, `mercato product set-offer`):
//   {"Pricing": {"Endpoint":  {"ml.m5.large": "0.50", ...},   USD per instance-hour
//                "Transform": {...}, "Training": {...},       USD per instance-hour
//                "PerInference": "0.001"},                    USD per inference
//    "FreeTrialDays": 14, "TestAccounts": ["123456789012"]}
// or {"Pricing": "Free"} (also: no Pricing at all). Prices are decimal strings (a JSON number
// is refused: floats are never money), at most 6 decimals, converted to integer micro-USD.
// Instance types must be known (sandbox::InstanceTypes). Negative, non-numeric or
// over-precise prices, unknown keys, FreeTrialDays other than 0 (none) or 5..120, a free trial
// without an hourly price (trials waive hourly software charges only), and test accounts that
// are not 12-digit ids are InvalidArgument naming the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "sandbox/instance_types.h"

namespace mercato::catalog {

inline constexpr int64_t kMinTrialDays = 5;
inline constexpr int64_t kMaxTrialDays = 120;

struct Offer {
  // The normalized offer as stored and shown: {"Pricing": "Free" | {..."0.500000"...},
  // "PricingMicros": {... 500000 ...} (when paid), "FreeTrialDays": N}.
  Json json;
  bool is_free = true;
  int64_t free_trial_days = 0;
  std::vector<std::string> test_accounts;
};

absl::StatusOr<Offer> ParseOffer(const Json& input, const sandbox::InstanceTypes& types);

// "0.50" → 500000; InvalidArgument unless a non-negative decimal with ≤ 6 decimals and
// below 10^9 USD. `field` names the value in the message.
absl::StatusOr<int64_t> ParseUsdMicros(const Json& value, std::string_view field);
// 500000 → "0.500000".
std::string FormatUsdMicros(int64_t micros);

// True for a 12-digit account id.
bool IsAccountId(std::string_view s);

}  // namespace mercato::catalog
