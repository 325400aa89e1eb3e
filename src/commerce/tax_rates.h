// TaxTable: US sales and use tax (and any other country's by state) as the operator
// configures it, and the billing addresses it is applied by.
//
//   SetRates({"US": {"WA": "0.065", "NY": "0.04"}})  replaces the whole table (PUT); rates are
//     decimal strings from 0 to 1 with at most 6 decimals, kept as ppm. Empty = no tax.
//   SetAddress(account, {"Country": "US", "State": "WA"})  any account; Country is ISO 3166-1
//     alpha-2, State a USPS code in the US (required there).
//   AddressOf(account): the stored address, else `default_address` (the wiring passes the
//     seller registration's country/state), else none ("" / "": no tax).
// Bad input is InvalidArgument ("ValidationError") and changes nothing.
// Thread-safe; borrows the store and clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct BillingAddress {
  std::string country;
  std::string state;
  std::string source;  // "BillingAddress" | "SellerRegistration" | "None"
};

// (country, state) → ppm.
using TaxRates = std::map<std::pair<std::string, std::string>, int64_t>;

class TaxTable {
 public:
  using DefaultAddressFn =
      std::function<std::optional<std::pair<std::string, std::string>>(std::string_view account)>;

  TaxTable(MetadataStore& store, const Clock& clock, DefaultAddressFn default_address = nullptr);

  absl::StatusOr<Json> SetRates(const Json& input);
  absl::StatusOr<TaxRates> Rates();
  // {"US": {"WA": "0.065000"}}.
  absl::StatusOr<Json> RatesJson();

  absl::StatusOr<Json> SetAddress(std::string_view account, const Json& input);
  absl::StatusOr<BillingAddress> AddressOf(std::string_view account);
  // Every stored address (month close reads them at once).
  absl::StatusOr<std::map<std::string, BillingAddress>> StoredAddresses();
  BillingAddress DefaultAddress(std::string_view account) const;

 private:
  MetadataStore& store_;
  const Clock& clock_;
  DefaultAddressFn default_address_;
};

Json AddressJson(std::string_view account, const BillingAddress& a);
// The rate for an address: the (country, state) entry, else 0.
int64_t RateFor(const TaxRates& rates, const BillingAddress& a);

}  // namespace mercato::commerce
