#include "commerce/price_changes.h"

#include <algorithm>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "base/time_format.h"
#include "catalog/offer.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato::commerce {
namespace {

constexpr int64_t kHourMicros = 3'600'000'000;

// "Endpoint/ml.m5.large" → price, "PerInference" → price; zero prices dropped.
using Flat = std::map<std::string, int64_t>;

Flat Flatten(const Json& pricing) {
  Flat out;
  if (!pricing.is_object()) return out;
  for (const auto& [key, value] : pricing.items()) {
    if (value.is_number_integer()) {
      if (value.get<int64_t>() != 0) out[key] = value.get<int64_t>();
    } else if (value.is_object()) {
      for (const auto& [type, price] : value.items()) {
        if (price.is_number_integer() && price.get<int64_t>() != 0) {
          out[key + "/" + type] = price.get<int64_t>();
        }
      }
    }
  }
  return out;
}

Json Unflatten(const Flat& flat) {
  Json out = Json::object();
  for (const auto& [path, price] : flat) {
    size_t slash = path.find('/');
    if (slash == std::string::npos) {
      out[path] = price;
    } else {
      out[path.substr(0, slash)][path.substr(slash + 1)] = price;
    }
  }
  return out;
}

// Element-wise minimum (a missing price is 0, so it stays missing).
Flat Min(const Flat& a, const Flat& b) {
  Flat out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it != b.end()) out[k] = std::min(v, it->second);
  }
  return out;
}

std::string Date(int64_t micros) { return FormatIso8601(absl::FromUnixMicros(micros)); }

Json JsonOr(const std::string& text, Json dflt) {
  absl::StatusOr<Json> j = ParseJson(text);
  return j.ok() ? *std::move(j) : std::move(dflt);
}

struct Pending {
  std::string account;
  std::string subject;
  std::string message;
  Json data;
};

}  // namespace

Json PricingOf(const Json& offer) {
  if (offer.is_object() && offer.contains("PricingMicros") && offer["PricingMicros"].is_object()) {
    return offer["PricingMicros"];
  }
  return Json::object();
}

int64_t PriceIn(const Json& pricing, std::string_view use, std::string_view instance_type) {
  if (!pricing.is_object()) return 0;
  if (use == "Inference") {
    auto it = pricing.find("PerInference");
    return it != pricing.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  }
  auto it = pricing.find(std::string(use));
  if (it == pricing.end() || !it->is_object()) return 0;
  auto p = it->find(std::string(instance_type));
  return p != it->end() && p->is_number_integer() ? p->get<int64_t>() : 0;
}

const Json& PricingTimeline::At(int64_t micros) const {
  const Json* in_force = &snapshot;
  for (const Change& c : changes) {
    if (c.effective_at > micros) break;
    in_force = &c.pricing;
  }
  return *in_force;
}

PriceChanges::PriceChanges(MetadataStore& store, const Clock& clock, Options options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<int> PriceChanges::OnOfferChanged(std::string_view product_id) {
  if (!options_.product) return absl::UnavailableError("the product catalog is not available");
  ASSIGN_OR_RETURN(BillingProduct product, options_.product(product_id));
  Flat next = Flatten(PricingOf(product.offer));
  int64_t now = absl::ToUnixMicros(clock_.Now());
  int64_t hour_start = now - now % kHourMicros;
  int64_t later = now + absl::ToInt64Microseconds(options_.notice);
  int64_t increase_at = (later + kHourMicros - 1) / kHourMicros * kHourMicros;
  std::string label = product.title.empty() ? product.product_code : product.title;
  std::vector<Pending> notes;
  int changed = 0;

  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(SqlRows subs, tx->Query("SELECT id, account_id, offer FROM subscriptions"
                                           " WHERE product_id = ? AND status = 'Active'",
                                           {product.product_id}));
  for (const SqlRow& s : subs) {
    std::string sub_id = s.Text(0);
    ASSIGN_OR_RETURN(SqlRows rows, tx->Query("SELECT effective_at, seq, pricing FROM"
                                             " subscription_offer_changes WHERE"
                                             " subscription_id = ? ORDER BY effective_at, seq",
                                             {sub_id}));
    Flat current = Flatten(PricingOf(JsonOr(s.Text(2), Json::object())));
    Flat latest = current;
    int64_t max_seq = 0;
    bool has_pending = false;
    for (const SqlRow& r : rows) {
      Flat f = Flatten(JsonOr(r.Text(2), Json::object()));
      if (r.Int(0) <= now) current = f;
      has_pending = has_pending || r.Int(0) > now;
      latest = std::move(f);
      max_seq = std::max(max_seq, r.Int(1));
    }
    if (latest == next) continue;
    RETURN_IF_ERROR(tx->Exec("DELETE FROM subscription_offer_changes WHERE subscription_id = ?"
                             " AND effective_at > ?",
                             {sub_id, now})
                        .status());
    Flat at_once = Min(current, next);
    auto insert = [&](int64_t at, const Flat& f, const char* kind) {
      return tx
          ->Exec(
              "INSERT INTO subscription_offer_changes (id, subscription_id, product_id,"
              " account_id, effective_at, seq, pricing, kind, created_at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {NewId("poc-"), sub_id, product.product_id, s.Text(1), at, ++max_seq,
               Unflatten(f).dump(), std::string(kind), now})
          .status();
    };
    Json data{{"ProductId", product.product_id},
              {"SubscriptionId", sub_id},
              {"Pricing", Unflatten(next)}};
    if (at_once != current) RETURN_IF_ERROR(insert(hour_start, at_once, "Decrease"));
    if (next != at_once) {
      RETURN_IF_ERROR(insert(increase_at, next, "Increase"));
      data["EffectiveAt"] = Date(increase_at);
      notes.push_back({s.Text(1), fmt::format("Price change for {}", label),
                       fmt::format("The seller changed the prices of {}. Higher prices apply to "
                                   "your subscription {} from {}{}.",
                                   label, sub_id, Date(increase_at),
                                   at_once != current ? "; lower prices apply now" : ""),
                       data});
    } else if (at_once != current) {
      data["EffectiveAt"] = Date(hour_start);
      notes.push_back({s.Text(1), fmt::format("Price decrease for {}", label),
                       fmt::format("The seller lowered the prices of {}. They apply to your "
                                   "subscription {} from {}.",
                                   label, sub_id, Date(hour_start)),
                       data});
    } else if (has_pending) {
      data["EffectiveAt"] = nullptr;
      notes.push_back({s.Text(1), fmt::format("Price change withdrawn for {}", label),
                       fmt::format("The announced price change of {} will not apply to your "
                                   "subscription {}.",
                                   label, sub_id),
                       data});
    }
    ++changed;
  }
  RETURN_IF_ERROR(tx->Commit());
  for (const Pending& n : notes) {
    if (options_.notify) {
      options_.notify(n.account, "offer.price_changed", n.subject, n.message, n.data);
    } else {
      spdlog::warn("price change notice for account {} dropped: notifications not available",
                   n.account);
    }
  }
  return changed;
}

absl::StatusOr<int> PriceChanges::SyncAll() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT DISTINCT product_id FROM subscriptions"
                                              " WHERE status = 'Active'"));
  int changed = 0;
  for (const SqlRow& r : rows) {
    absl::StatusOr<int> n = OnOfferChanged(r.Text(0));
    if (!n.ok()) {
      if (n.status().code() == absl::StatusCode::kNotFound) continue;
      return n.status();
    }
    changed += *n;
  }
  return changed;
}

absl::StatusOr<std::map<std::string, PricingTimeline>> PriceChanges::Timelines(
    const std::set<std::string>& ids, int64_t until) {
  std::map<std::string, PricingTimeline> out;
  if (ids.empty()) return out;
  ASSIGN_OR_RETURN(SqlRows subs, store_.Query("SELECT id, account_id, product_id, seller_account,"
                                              " trial_start, trial_end, offer FROM subscriptions"));
  for (const SqlRow& r : subs) {
    if (!ids.count(r.Text(0))) continue;
    PricingTimeline& t = out[r.Text(0)];
    t.subscription_id = r.Text(0);
    t.account_id = r.Text(1);
    t.product_id = r.Text(2);
    t.seller_account = r.Text(3);
    t.trial_start = r.Int(4);
    t.trial_end = r.Int(5);
    t.snapshot = PricingOf(JsonOr(r.Text(6), Json::object()));
  }
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT subscription_id, effective_at, seq, pricing FROM"
                                " subscription_offer_changes WHERE effective_at < ?"
                                " ORDER BY subscription_id, effective_at, seq",
                                {until}));
  for (const SqlRow& r : rows) {
    auto it = out.find(r.Text(0));
    if (it == out.end()) continue;
    it->second.changes.push_back({r.Int(1), r.Int(2), JsonOr(r.Text(3), Json::object())});
  }
  return out;
}

absl::StatusOr<Json> PriceChanges::TimelineJson(std::string_view account,
                                                std::string_view subscription_id) {
  ASSIGN_OR_RETURN(SqlRows subs,
                   store_.Query("SELECT offer FROM subscriptions WHERE id = ? AND"
                                " account_id = ?",
                                {std::string(subscription_id), std::string(account)}));
  if (subs.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "SubscriptionNotFound",
                    fmt::format("no subscription {}", subscription_id));
  }
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT effective_at, pricing, kind FROM"
                                              " subscription_offer_changes WHERE"
                                              " subscription_id = ? ORDER BY effective_at, seq",
                                              {std::string(subscription_id)}));
  Json changes = Json::array();
  for (const SqlRow& r : rows) {
    changes.push_back({{"EffectiveAt", Date(r.Int(0))},
                       {"Kind", r.Text(2)},
                       {"PricingMicros", JsonOr(r.Text(1), Json::object())}});
  }
  return Json{{"SubscriptionId", std::string(subscription_id)},
              {"SnapshotPricingMicros", PricingOf(JsonOr(subs[0].Text(0), Json::object()))},
              {"Changes", changes}};
}

}  // namespace mercato::commerce
