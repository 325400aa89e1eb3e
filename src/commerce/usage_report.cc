#include "commerce/usage_report.h"

#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

constexpr int64_t kHourMicros = int64_t{3600} * 1'000'000;

std::string Usd(int64_t micros) {
  std::string sign = micros < 0 ? "-" : "";
  if (micros < 0) micros = -micros;
  return fmt::format("{}{}.{:06d}", sign, micros / 1'000'000, micros % 1'000'000);
}

// A subscription's prices over time: its offer snapshot, then the billing part's accepted
// price changes (subscription_offer_changes: the latest effective_at, seq at or before an
// hour wins).
struct SubscriptionTerms {
  Json pricing = Json::object();                  // the snapshot's PricingMicros
  std::vector<std::pair<int64_t, Json>> changes;  // (effective_at, PricingMicros), in order
  int64_t trial_start = 0;
  int64_t trial_end = 0;

  const Json& PricingAt(int64_t hour) const {
    const Json* p = &pricing;
    for (const auto& [at, changed] : changes) {
      if (at > hour) break;
      p = &changed;
    }
    return *p;
  }
};

absl::StatusOr<SubscriptionTerms> LoadTerms(MetadataStore& store, const std::string& id) {
  SubscriptionTerms t;
  ASSIGN_OR_RETURN(SqlRows rows, store.Query("SELECT offer, trial_start, trial_end FROM"
                                             " subscriptions WHERE id = ?",
                                             {id}));
  if (rows.empty()) return t;
  Json offer = ParseJson(rows[0].Text(0)).value_or(Json::object());
  if (offer.is_object() && offer.contains("PricingMicros")) t.pricing = offer["PricingMicros"];
  t.trial_start = rows[0].Int(1);
  t.trial_end = rows[0].Int(2);
  // Absent before the billing part exists: the snapshot alone applies.
  auto changes = store.Query(
      "SELECT effective_at, pricing FROM subscription_offer_changes"
      " WHERE subscription_id = ? ORDER BY effective_at, seq",
      {id});
  if (changes.ok()) {
    for (const SqlRow& r : *changes) {
      t.changes.emplace_back(r.Int(0), ParseJson(r.Text(1)).value_or(Json::object()));
    }
  }
  return t;
}

// The seller's price for a use under PricingMicros, in micro-USD per hour (instance uses) or
// per inference; 0 when there is none.
int64_t SoftwarePrice(const Json& p, const std::string& use, const std::string& type) {
  if (!p.is_object()) return 0;
  if (use == "Inference") {
    auto it = p.find("PerInference");
    return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  }
  auto u = p.find(use);
  if (u == p.end() || !u->is_object()) return 0;
  auto t = u->find(type);
  return t != u->end() && t->is_number_integer() ? t->get<int64_t>() : 0;
}

// The operator's prices per instance-hour by (instance type, use), from the billing part's
// table (absent → none).
std::map<std::pair<std::string, std::string>, int64_t> InfrastructurePrices(MetadataStore& store) {
  std::map<std::pair<std::string, std::string>, int64_t> out;
  auto rows = store.Query("SELECT instance_type, use, micros_per_hour FROM infrastructure_prices");
  if (rows.ok()) {
    for (const SqlRow& r : *rows) out[{r.Text(0), r.Text(1)}] = r.Int(2);
  }
  return out;
}

bool ListContains(const std::string& json_list, std::string_view value) {
  Json list = ParseJson(json_list).value_or(Json::array());
  if (!list.is_array()) return false;
  for (const Json& v : list) {
    if (v.is_string() && v.get<std::string>() == value) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<UsageMonth> ParseUsageMonth(std::string_view month) {
  auto bad = [&] {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    fmt::format("month \"{}\" is not YYYY-MM", month));
  };
  if (month.size() != 7 || month[4] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (!std::isdigit(static_cast<unsigned char>(month[i]))) return bad();
  }
  int year = std::stoi(std::string(month.substr(0, 4)));
  int mon = std::stoi(std::string(month.substr(5, 2)));
  if (year < 1970 || mon < 1 || mon > 12) return bad();
  absl::CivilMonth m(year, mon);
  return UsageMonth{std::string(month), absl::ToUnixMicros(absl::FromCivil(m, absl::UTCTimeZone())),
                    absl::ToUnixMicros(absl::FromCivil(m + 1, absl::UTCTimeZone()))};
}

UsageMonth UsageMonthOf(absl::Time t) {
  absl::CivilMonth m = absl::ToCivilMonth(t, absl::UTCTimeZone());
  return UsageMonth{fmt::format("{:04d}-{:02d}", m.year(), m.month()),
                    absl::ToUnixMicros(absl::FromCivil(m, absl::UTCTimeZone())),
                    absl::ToUnixMicros(absl::FromCivil(m + 1, absl::UTCTimeZone()))};
}

absl::StatusOr<Json> UsageReport(MetadataStore& store, std::string_view account,
                                 const UsageMonth& month) {
  std::string buyer(account);
  ASSIGN_OR_RETURN(SqlRows rows,
                   store.Query("SELECT product_id, subscription_id, seller_account, resource_arn,"
                               " use, instance_type, hour, quantity FROM usage_records"
                               " WHERE buyer_account = ? AND hour >= ? AND hour < ?",
                               {buyer, month.start, month.end}));
  std::map<std::string, SubscriptionTerms> subs;
  std::map<std::string, bool> tester;  // product id → buyer is a test account
  // product, subscription, seller, arn, use, instance type, pricing, unit price
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string,
                         std::string, std::string, int64_t>;
  std::map<Key, int64_t> groups;
  for (const SqlRow& r : rows) {
    std::string product = r.Text(0), sub = r.Text(1), use = r.Text(4), type = r.Text(5);
    int64_t hour = r.Int(6);
    std::string pricing = "None";
    int64_t price = 0;
    if (!sub.empty()) {
      auto s = subs.find(sub);
      if (s == subs.end()) {
        ASSIGN_OR_RETURN(SubscriptionTerms t, LoadTerms(store, sub));
        s = subs.emplace(sub, std::move(t)).first;
      }
      auto tst = tester.find(product);
      if (tst == tester.end()) {
        auto pr = store.Query("SELECT test_accounts FROM products WHERE id = ?", {product});
        bool is_test = pr.ok() && !pr->empty() && ListContains((*pr)[0].Text(0), buyer);
        tst = tester.emplace(product, is_test).first;
      }
      const SubscriptionTerms& t = s->second;
      int64_t listed = SoftwarePrice(t.PricingAt(hour), use, type);
      bool in_trial = use != "Inference" && t.trial_end != 0 && hour < t.trial_end &&
                      hour + kHourMicros > t.trial_start;
      if (tst->second) {
        pricing = "TestAccount";
      } else if (in_trial) {
        pricing = "FreeTrial";
      } else if (listed == 0) {
        pricing = "Free";
      } else {
        pricing = "Paid";
        price = listed;
      }
    }
    groups[Key{product, sub, r.Text(2), r.Text(3), use, type, pricing, price}] += r.Int(7);
  }

  auto infra = InfrastructurePrices(store);
  Json out_rows = Json::array();
  int64_t software_total = 0, infra_total = 0;
  for (const auto& [key, quantity] : groups) {
    const auto& [product, sub, seller, arn, use, type, pricing, price] = key;
    bool inference = use == "Inference";
    auto ip = infra.find({type, use});
    int64_t infra_price = inference || ip == infra.end() ? 0 : ip->second;
    int64_t software = 0, infrastructure = 0;
    Json shown_quantity;
    if (inference) {
      software = quantity * price;
      shown_quantity = quantity;
    } else {
      int64_t seconds = quantity / 1'000'000;
      software = (seconds * price + 1800) / 3600;
      infrastructure = (seconds * infra_price + 1800) / 3600;
      shown_quantity = fmt::format("{}.{:06d}", quantity / 1'000'000, quantity % 1'000'000);
    }
    software_total += software;
    infra_total += infrastructure;
    out_rows.push_back({{"ProductId", product},
                        {"SubscriptionId", sub},
                        {"SellerAccount", seller},
                        {"ResourceArn", arn},
                        {"Use", use},
                        {"InstanceType", type},
                        {"Pricing", pricing},
                        {"Unit", inference ? "Inferences" : "Seconds"},
                        {"Quantity", shown_quantity},
                        {"SoftwareUnitPrice", Usd(price)},
                        {"SoftwareCost", Usd(software)},
                        {"InfrastructureUnitPrice", Usd(infra_price)},
                        {"InfrastructureCost", Usd(infrastructure)}});
  }
  Json through = nullptr;
  auto st = store.Query("SELECT value FROM meter_state WHERE name = 'metered_through'");
  if (st.ok() && !st->empty()) through = FormatIso8601(absl::FromUnixMicros((*st)[0].Int(0)));
  return Json{{"Month", month.month},
              {"AccountId", buyer},
              {"MeteredThrough", through},
              {"Rows", std::move(out_rows)},
              {"SoftwareCost", Usd(software_total)},
              {"InfrastructureCost", Usd(infra_total)},
              {"TotalCost", Usd(software_total + infra_total)}};
}

}  // namespace mercato::commerce
