// PriceList: what the operator charges. Infrastructure prices per instance-hour by instance
// type and use (table infrastructure_prices, which the metering part also reads for cost
// estimates) and listing fees (a share of software revenue, default 20 %, overridable per
// product).
//
// Input shapes (native API):
//   SetInfrastructure({"Endpoint": {"ml.m5.large": "0.115", ...}, "Transform": {...},
//                      "Training": {...}})  upserts the given entries (others stay).
//   SetListingFee(product_id, {"Percent": "15"})  0..100, at most 4 decimals.
// Unknown uses or instance types, non-string/negative/non-numeric prices are
// InvalidArgument ("ValidationError") and nothing is written (one transaction).
// Thread-safe; borrows the store and clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "sandbox/instance_types.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

inline constexpr int64_t kDefaultListingFeePpm = 200'000;  // 20 %

// (use, instance type) → micro-USD per instance-hour.
using InfrastructurePrices = std::map<std::pair<std::string, std::string>, int64_t>;

class PriceList {
 public:
  PriceList(MetadataStore& store, const Clock& clock, sandbox::InstanceTypes types,
            int64_t default_listing_fee_ppm = kDefaultListingFeePpm);

  // Returns the whole list after the change (InfrastructureJson).
  absl::StatusOr<Json> SetInfrastructure(const Json& input);
  absl::StatusOr<InfrastructurePrices> Infrastructure();
  // {"Endpoint": {"ml.m5.large": "0.115000"}, ...} plus "Micros" with the integers.
  absl::StatusOr<Json> InfrastructureJson();

  // {"ProductId","Percent","RatePpm","Default": false}.
  absl::StatusOr<Json> SetListingFee(std::string_view product_id, const Json& input);
  // The product's override or the default.
  absl::StatusOr<Json> ListingFeeJson(std::string_view product_id);
  // Every override: {"Default": {...}, "Overrides": [...]}.
  absl::StatusOr<Json> ListingFeesJson();
  // product id → ppm for the overrides (others pay default_listing_fee_ppm()).
  absl::StatusOr<std::map<std::string, int64_t>> ListingFeeOverrides();
  int64_t default_listing_fee_ppm() const { return default_fee_ppm_; }

 private:
  MetadataStore& store_;
  const Clock& clock_;
  sandbox::InstanceTypes types_;
  int64_t default_fee_ppm_;
};

}  // namespace mercato::commerce
