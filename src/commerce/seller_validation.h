// Validation of seller registration fields: ISO 3166-1 alpha-2 countries, USPS state codes
// (required for the US), e-mail shape, bank account (4-34 alphanumerics, IBAN's upper
// bound) and bank routing numbers (9 digits; the ABA checksum for US routing numbers).
// Each check returns InvalidArgument with a message naming the field and what is allowed.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace mercato::commerce {

bool IsIsoCountryCode(std::string_view code);  // upper-case, e.g. "US", "DE"
bool IsUspsStateCode(std::string_view code);   // upper-case, e.g. "CA", "DC", "PR"
bool IsAbaRoutingNumber(std::string_view digits);

absl::Status ValidateLegalName(std::string_view name);
absl::Status ValidateEmail(std::string_view email);
// `country` and `state` upper-case; state may be empty outside the US.
absl::Status ValidateCountryAndState(std::string_view country, std::string_view state);
absl::Status ValidateBankAccount(std::string_view account);
absl::Status ValidateBankRouting(std::string_view routing, std::string_view country);

// "****6789": the last four characters behind four stars (all stars when shorter than 8,
// so a short secret is never shown whole).
std::string MaskSecret(std::string_view secret);

}  // namespace mercato::commerce
