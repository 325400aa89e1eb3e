#include "commerce/price_list.h"

#include <algorithm>

#include "base/errors.h"
#include "base/status.h"
#include "catalog/offer.h"
#include "commerce/billing_types.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

constexpr const char* kInstanceUses[] = {"Endpoint", "Transform", "Training"};

Json FeeJson(std::string_view product_id, int64_t ppm, bool is_default) {
  return Json{{"ProductId", std::string(product_id)},
              {"Percent", FormatPercent(ppm)},
              {"RatePpm", ppm},
              {"Default", is_default}};
}

}  // namespace

PriceList::PriceList(MetadataStore& store, const Clock& clock, sandbox::InstanceTypes types,
                     int64_t default_listing_fee_ppm)
    : store_(store),
      clock_(clock),
      types_(std::move(types)),
      default_fee_ppm_(default_listing_fee_ppm) {}

absl::StatusOr<Json> PriceList::SetInfrastructure(const Json& input) {
  if (!input.is_object() || input.empty()) {
    return Invalid(
        "infrastructure prices: an object such as {\"Endpoint\": {\"ml.m5.large\": \"0.115\"}}");
  }
  std::vector<std::tuple<std::string, std::string, int64_t>> entries;
  for (const auto& [use, prices] : input.items()) {
    if (std::find(std::begin(kInstanceUses), std::end(kInstanceUses), use) ==
        std::end(kInstanceUses)) {
      return Invalid(fmt::format(
          "infrastructure prices: unknown use {} (expected Endpoint, Transform, Training)", use));
    }
    if (!prices.is_object()) {
      return Invalid(fmt::format("infrastructure prices: {} maps instance types to prices", use));
    }
    for (const auto& [type, price] : prices.items()) {
      if (!types_.Find(type).ok()) {
        return Invalid(
            fmt::format("infrastructure prices: {}: unknown instance type {}", use, type));
      }
      ASSIGN_OR_RETURN(int64_t micros,
                       catalog::ParseUsdMicros(price, fmt::format("{}.{}", use, type)));
      entries.emplace_back(use, type, micros);
    }
  }
  int64_t now = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  for (const auto& [use, type, micros] : entries) {
    RETURN_IF_ERROR(tx->Exec("INSERT INTO infrastructure_prices (instance_type, use,"
                             " micros_per_hour, updated_at) VALUES (?, ?, ?, ?)"
                             " ON CONFLICT (instance_type, use) DO UPDATE SET"
                             " micros_per_hour = excluded.micros_per_hour,"
                             " updated_at = excluded.updated_at",
                             {type, use, micros, now})
                        .status());
  }
  RETURN_IF_ERROR(tx->Commit());
  return InfrastructureJson();
}

absl::StatusOr<InfrastructurePrices> PriceList::Infrastructure() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT use, instance_type, micros_per_hour FROM"
                                              " infrastructure_prices"));
  InfrastructurePrices out;
  for (const SqlRow& r : rows) out[{r.Text(0), r.Text(1)}] = r.Int(2);
  return out;
}

absl::StatusOr<Json> PriceList::InfrastructureJson() {
  ASSIGN_OR_RETURN(InfrastructurePrices prices, Infrastructure());
  Json shown = Json::object();
  Json micros = Json::object();
  for (const auto& [key, m] : prices) {
    shown[key.first][key.second] = catalog::FormatUsdMicros(m);
    micros[key.first][key.second] = m;
  }
  return Json{{"Prices", shown}, {"Micros", micros}, {"Unit", "USD per instance-hour"}};
}

absl::StatusOr<Json> PriceList::SetListingFee(std::string_view product_id, const Json& input) {
  if (product_id.empty() || product_id.size() > 64) return Invalid("a product id is required");
  if (!input.is_object() || !input.contains("Percent")) {
    return Invalid("listing fee: {\"Percent\": \"15\"} (0 to 100)");
  }
  ASSIGN_OR_RETURN(int64_t ppm, ParsePercentPpm(input["Percent"], "Percent"));
  RETURN_IF_ERROR(store_
                      .Exec("INSERT INTO listing_fees (product_id, rate_ppm, updated_at)"
                            " VALUES (?, ?, ?) ON CONFLICT (product_id) DO UPDATE SET"
                            " rate_ppm = excluded.rate_ppm, updated_at = excluded.updated_at",
                            {std::string(product_id), ppm, absl::ToUnixMicros(clock_.Now())})
                      .status());
  return FeeJson(product_id, ppm, false);
}

absl::StatusOr<Json> PriceList::ListingFeeJson(std::string_view product_id) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT rate_ppm FROM listing_fees WHERE"
                                              " product_id = ?",
                                              {std::string(product_id)}));
  if (rows.empty()) return FeeJson(product_id, default_fee_ppm_, true);
  return FeeJson(product_id, rows[0].Int(0), false);
}

absl::StatusOr<Json> PriceList::ListingFeesJson() {
  ASSIGN_OR_RETURN(auto overrides, ListingFeeOverrides());
  Json list = Json::array();
  for (const auto& [id, ppm] : overrides) list.push_back(FeeJson(id, ppm, false));
  return Json{{"Default", FeeJson("", default_fee_ppm_, true)}, {"Overrides", list}};
}

absl::StatusOr<std::map<std::string, int64_t>> PriceList::ListingFeeOverrides() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT product_id, rate_ppm FROM listing_fees"));
  std::map<std::string, int64_t> out;
  for (const SqlRow& r : rows) out[r.Text(0)] = r.Int(1);
  return out;
}

}  // namespace mercato::commerce
