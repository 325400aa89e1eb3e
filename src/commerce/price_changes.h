// PriceChanges: how a seller's new offer reaches existing subscriptions.
//
// A subscription keeps the prices it accepted (its offer snapshot). When the seller changes
// the product's offer, each Active subscription gets, per price (instance type x use, and
// per inference; a missing price counts as 0):
//   - every decrease at once: a row effective from the start of the current UTC hour with
//     the element-wise minimum of the prices in force and the new ones;
//   - the new prices in full (so also every increase) only after `notice` (default 90 days),
//     from the first hour start at or after now + notice;
// and a notification ("offer.price_changed") with the effective date. A change announced
// but not yet in force is replaced by the next change (its notice restarts for increases).
// Rows live in subscription_offer_changes; billing asks a PricingTimeline which prices were
// in force at each usage hour. OnOfferChanged is idempotent (calling it again with the same
// offer changes nothing), so the wiring may call it from the products hook and from a
// periodic sync alike.
// Thread-safe; borrows the store and clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

// What billing needs of a product (the products part's view, adapted by the wiring).
struct BillingProduct {
  std::string product_id;
  std::string product_code;
  std::string title;
  std::string seller_account;
  std::vector<std::string> test_accounts;
  Json offer = Json::object();  // the normalized offer (catalog/offer.h), "PricingMicros" inside
};
using ProductLookup = std::function<absl::StatusOr<BillingProduct>(std::string_view product_id)>;
using NotifyFn =
    std::function<void(std::string_view account, std::string_view type, std::string_view subject,
                       std::string_view message, const Json& data)>;

// An offer's integer prices: {"Endpoint": {"ml.m5.large": 500000}, "PerInference": 1000};
// {} for a free offer.
Json PricingOf(const Json& offer);
// Micro-USD per hour (instance uses) or per inference (use "Inference"); 0 when unpriced.
int64_t PriceIn(const Json& pricing, std::string_view use, std::string_view instance_type);

struct PricingTimeline {
  struct Change {
    int64_t effective_at = 0;
    int64_t seq = 0;
    Json pricing;
  };
  std::string subscription_id;
  std::string account_id;
  std::string product_id;
  std::string seller_account;
  int64_t trial_start = 0;
  int64_t trial_end = 0;
  Json snapshot;                // PricingOf(the subscription's offer)
  std::vector<Change> changes;  // by (effective_at, seq)
  // The prices in force at `micros`.
  const Json& At(int64_t micros) const;
};

class PriceChanges {
 public:
  struct Options {
    ProductLookup product;
    NotifyFn notify;
    absl::Duration notice = absl::Hours(24 * 90);
  };
  PriceChanges(MetadataStore& store, const Clock& clock, Options options);

  // Applies the product's current offer to its Active subscriptions; returns how many
  // subscriptions got a change.
  absl::StatusOr<int> OnOfferChanged(std::string_view product_id);
  // OnOfferChanged for every product with an Active subscription (catch-up sync).
  absl::StatusOr<int> SyncAll();
  // Timelines of the given subscriptions (missing ids are skipped), changes effective
  // before `until` only.
  absl::StatusOr<std::map<std::string, PricingTimeline>> Timelines(
      const std::set<std::string>& subscription_ids, int64_t until);
  // The subscription's timeline as JSON ({"SubscriptionId","Snapshot","Changes":[...]}).
  absl::StatusOr<Json> TimelineJson(std::string_view account, std::string_view subscription_id);

 private:
  MetadataStore& store_;
  const Clock& clock_;
  Options options_;
};

}  // namespace mercato::commerce
