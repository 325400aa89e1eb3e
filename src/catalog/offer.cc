#include "catalog/offer.h"

#include <algorithm>

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

constexpr const char* kHourly[] = {"Endpoint", "Transform", "Training"};

}  // namespace

bool IsAccountId(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::StatusOr<int64_t> ParseUsdMicros(const Json& value, std::string_view field) {
  if (!value.is_string()) {
    return Invalid(fmt::format("{}: a price is a decimal string of USD such as \"0.50\"", field));
  }
  std::string s = value.get<std::string>();
  if (!s.empty() && s[0] == '-') return Invalid(fmt::format("{}: price {} is negative", field, s));
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  auto digits = [](const std::string& t) {
    return std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole) || !digits(frac) ||
      (dot != std::string::npos && frac.empty())) {
    return Invalid(fmt::format("{}: \"{}\" is not a decimal number of USD", field, s));
  }
  if (frac.size() > 6) {
    return Invalid(fmt::format("{}: \"{}\" has more than 6 decimals (micro-USD)", field, s));
  }
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
  if (whole.size() > 9) return Invalid(fmt::format("{}: \"{}\" is too large", field, s));
  frac.resize(6, '0');
  return std::stoll(whole) * 1'000'000 + std::stoll(frac);
}

std::string FormatUsdMicros(int64_t micros) {
  return fmt::format("{}.{:06d}", micros / 1'000'000, micros % 1'000'000);
}

absl::StatusOr<Offer> ParseOffer(const Json& input, const sandbox::InstanceTypes& types) {
  if (!input.is_object()) return Invalid("the offer must be a JSON object");
  for (const auto& [key, _] : input.items()) {
    if (key != "Pricing" && key != "FreeTrialDays" && key != "TestAccounts") {
      return Invalid(fmt::format(
          "offer: unknown field {} (expected Pricing, FreeTrialDays, TestAccounts)", key));
    }
  }
  Offer offer;
  Json pricing = input.value("Pricing", Json("Free"));
  Json shown = Json::object();
  Json micros = Json::object();
  int64_t total = 0;
  int64_t hourly_total = 0;  // a free trial waives hourly software charges only
  if (pricing.is_string()) {
    if (pricing.get<std::string>() != "Free") {
      return Invalid("offer: Pricing is \"Free\" or an object of prices");
    }
  } else if (pricing.is_object()) {
    for (const auto& [key, value] : pricing.items()) {
      if (key == "PerInference") {
        ASSIGN_OR_RETURN(int64_t m, ParseUsdMicros(value, "Pricing.PerInference"));
        shown[key] = FormatUsdMicros(m);
        micros[key] = m;
        total += m;
        continue;
      }
      if (std::find(std::begin(kHourly), std::end(kHourly), key) == std::end(kHourly)) {
        return Invalid(fmt::format(
            "offer: unknown price kind Pricing.{} (expected Endpoint, Transform, Training, "
            "PerInference)",
            key));
      }
      if (!value.is_object()) {
        return Invalid(fmt::format("offer: Pricing.{} maps instance types to prices", key));
      }
      for (const auto& [type, price] : value.items()) {
        if (!types.Find(type).ok()) {
          return Invalid(fmt::format("offer: Pricing.{}: unknown instance type {}", key, type));
        }
        ASSIGN_OR_RETURN(int64_t m, ParseUsdMicros(price, fmt::format("Pricing.{}.{}", key, type)));
        shown[key][type] = FormatUsdMicros(m);
        micros[key][type] = m;
        total += m;
        hourly_total += m;
      }
    }
  } else {
    return Invalid("offer: Pricing is \"Free\" or an object of prices");
  }
  offer.is_free = total == 0;
  if (offer.is_free) {
    offer.json["Pricing"] = "Free";
  } else {
    offer.json["Pricing"] = shown;
    offer.json["PricingMicros"] = micros;
  }
  Json days = input.value("FreeTrialDays", Json(0));
  if (!days.is_number_integer() ||
      (days.get<int64_t>() != 0 &&
       (days.get<int64_t>() < kMinTrialDays || days.get<int64_t>() > kMaxTrialDays))) {
    return Invalid(
        fmt::format("offer: FreeTrialDays must be 0 (no trial) or a whole number of "
                    "days from {} to {}, not {}",
                    kMinTrialDays, kMaxTrialDays, days.dump()));
  }
  offer.free_trial_days = days.get<int64_t>();
  if (offer.is_free && offer.free_trial_days > 0) {
    return Invalid("offer: a free product has no free trial");
  }
  if (hourly_total == 0 && offer.free_trial_days > 0) {
    return Invalid(
        "offer: a free trial needs hourly prices (Pricing.Endpoint, Transform or Training); "
        "per-inference prices have no free trial");
  }
  offer.json["FreeTrialDays"] = offer.free_trial_days;
  Json tests = input.value("TestAccounts", Json::array());
  if (!tests.is_array()) return Invalid("offer: TestAccounts is a list of account ids");
  for (const Json& t : tests) {
    if (!t.is_string() || !IsAccountId(t.get<std::string>())) {
      return Invalid(fmt::format("offer: test account {} is not a 12-digit account id", t.dump()));
    }
    std::string id = t.get<std::string>();
    if (std::find(offer.test_accounts.begin(), offer.test_accounts.end(), id) ==
        offer.test_accounts.end()) {
      offer.test_accounts.push_back(id);
    }
  }
  return offer;
}

}  // namespace mercato::catalog
