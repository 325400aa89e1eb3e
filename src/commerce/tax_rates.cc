#include "commerce/tax_rates.h"

#include <cctype>

#include "base/errors.h"
#include "base/status.h"
#include "commerce/billing_types.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

bool IsUpperCode(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TaxTable::TaxTable(MetadataStore& store, const Clock& clock, DefaultAddressFn default_address)
    : store_(store), clock_(clock), default_address_(std::move(default_address)) {}

absl::StatusOr<Json> TaxTable::SetRates(const Json& input) {
  if (!input.is_object()) {
    return Invalid("tax rates: an object such as {\"US\": {\"WA\": \"0.065\"}}");
  }
  TaxRates rates;
  for (const auto& [country, states] : input.items()) {
    if (!IsUpperCode(country, 2)) {
      return Invalid(
          fmt::format("tax rates: {} is not an ISO 3166-1 alpha-2 country code", country));
    }
    if (!states.is_object()) {
      return Invalid(fmt::format("tax rates: {} maps states to rates", country));
    }
    for (const auto& [state, rate] : states.items()) {
      if (state.empty() || state.size() > 64) {
        return Invalid(fmt::format("tax rates: {}: bad state \"{}\"", country, state));
      }
      ASSIGN_OR_RETURN(int64_t ppm, ParseRatePpm(rate, fmt::format("{}.{}", country, state)));
      rates[{country, state}] = ppm;
    }
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  RETURN_IF_ERROR(tx->Exec("DELETE FROM tax_rates").status());
  for (const auto& [key, ppm] : rates) {
    RETURN_IF_ERROR(tx->Exec("INSERT INTO tax_rates (country, state, rate_ppm) VALUES (?, ?, ?)",
                             {key.first, key.second, ppm})
                        .status());
  }
  RETURN_IF_ERROR(tx->Commit());
  return RatesJson();
}

absl::StatusOr<TaxRates> TaxTable::Rates() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT country, state, rate_ppm FROM tax_rates"));
  TaxRates out;
  for (const SqlRow& r : rows) out[{r.Text(0), r.Text(1)}] = r.Int(2);
  return out;
}

absl::StatusOr<Json> TaxTable::RatesJson() {
  ASSIGN_OR_RETURN(TaxRates rates, Rates());
  Json out = Json::object();
  for (const auto& [key, ppm] : rates) out[key.first][key.second] = FormatRate(ppm);
  return out;
}

absl::StatusOr<Json> TaxTable::SetAddress(std::string_view account, const Json& input) {
  if (!input.is_object())
    return Invalid("billing address: {\"Country\": \"US\", \"State\": \"WA\"}");
  for (const auto& [key, _] : input.items()) {
    if (key != "Country" && key != "State") {
      return Invalid(fmt::format("billing address: unknown field {} (Country, State)", key));
    }
  }
  if (!input.contains("Country") || !input["Country"].is_string()) {
    return Invalid("billing address: Country (ISO 3166-1 alpha-2, e.g. US) is required");
  }
  std::string country = Upper(input["Country"].get<std::string>());
  if (!IsUpperCode(country, 2)) {
    return Invalid(fmt::format("billing address: {} is not an ISO 3166-1 alpha-2 country code",
                               input["Country"].get<std::string>()));
  }
  std::string state;
  if (input.contains("State") && !input["State"].is_null()) {
    if (!input["State"].is_string()) return Invalid("billing address: State must be a string");
    state = input["State"].get<std::string>();
  }
  if (country == "US") {
    state = Upper(state);
    if (!IsUpperCode(state, 2)) {
      return Invalid("billing address: a US address needs State, a 2-letter USPS code such as WA");
    }
  } else if (state.size() > 64) {
    return Invalid("billing address: State is at most 64 characters");
  }
  RETURN_IF_ERROR(
      store_
          .Exec("INSERT INTO billing_addresses (account_id, country, state, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET"
                " country = excluded.country, state = excluded.state,"
                " updated_at = excluded.updated_at",
                {std::string(account), country, state, absl::ToUnixMicros(clock_.Now())})
          .status());
  return AddressJson(account, BillingAddress{country, state, "BillingAddress"});
}

absl::StatusOr<BillingAddress> TaxTable::AddressOf(std::string_view account) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT country, state FROM billing_addresses"
                                              " WHERE account_id = ?",
                                              {std::string(account)}));
  if (!rows.empty()) return BillingAddress{rows[0].Text(0), rows[0].Text(1), "BillingAddress"};
  return DefaultAddress(account);
}

absl::StatusOr<std::map<std::string, BillingAddress>> TaxTable::StoredAddresses() {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT account_id, country, state FROM billing_addresses"));
  std::map<std::string, BillingAddress> out;
  for (const SqlRow& r : rows) out[r.Text(0)] = {r.Text(1), r.Text(2), "BillingAddress"};
  return out;
}

BillingAddress TaxTable::DefaultAddress(std::string_view account) const {
  if (default_address_) {
    if (auto a = default_address_(account)) {
      return BillingAddress{a->first, a->second, "SellerRegistration"};
    }
  }
  return BillingAddress{"", "", "None"};
}

Json AddressJson(std::string_view account, const BillingAddress& a) {
  return Json{{"AccountId", std::string(account)},
              {"Country", a.country},
              {"State", a.state},
              {"Source", a.source}};
}

int64_t RateFor(const TaxRates& rates, const BillingAddress& a) {
  auto it = rates.find({a.country, a.state});
  return it == rates.end() ? 0 : it->second;
}

}  // namespace mercato::commerce
