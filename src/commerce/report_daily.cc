// The daily (and weekly ref-tag) data sets of the report service.
#include <algorithm>
#include <map>
#include <tuple>

#include "base/json.h"
#include "base/status.h"
#include "commerce/report_internal.h"

namespace mercato::commerce::report_internal {
namespace {

constexpr int64_t kHourMicros = 3600LL * 1000000;

// Orders rows by the given columns, then by the whole row, so output is deterministic.
void SortRows(Rows& rows, std::vector<size_t> key) {
  std::sort(rows.begin(), rows.end(), [&key](const auto& a, const auto& b) {
    for (size_t k : key) {
      if (a[k] != b[k]) return a[k] < b[k];
    }
    return a < b;
  });
}

// Customer rows sort by product code, then customer reference id.
void SortCustomerRows(Rows& rows) { SortRows(rows, {4, 0}); }

struct SubscriptionTerms {
  Json offer;
  int64_t trial_end = 0;
};

absl::StatusOr<std::map<std::string, SubscriptionTerms>> LoadTerms(ReportContext& c) {
  ASSIGN_OR_RETURN(SqlRows rows, c.store().Query("SELECT id, offer, trial_end FROM subscriptions"
                                                 " WHERE seller_account = ?",
                                                 {c.seller()}));
  std::map<std::string, SubscriptionTerms> out;
  for (const SqlRow& r : rows) {
    auto offer = ParseJson(r.Text(1));
    out[r.Text(0)] = {offer.ok() ? *offer : Json::object(), r.Int(2)};
  }
  return out;
}

// Micro-USD per instance-hour (or per inference) from an offer snapshot's "PricingMicros";
// nullopt when the offer is free or does not price this use.
std::optional<int64_t> PriceOf(const Json& offer, const std::string& use,
                               const std::string& instance_type) {
  if (!offer.is_object() || !offer.contains("PricingMicros")) return std::nullopt;
  const Json& p = offer["PricingMicros"];
  if (!p.is_object()) return std::nullopt;
  if (use == "Inference") {
    if (p.contains("PerInference") && p["PerInference"].is_number_integer()) {
      return p["PerInference"].get<int64_t>();
    }
    return std::nullopt;
  }
  if (p.contains(use) && p[use].is_object() && p[use].contains(instance_type) &&
      p[use][instance_type].is_number_integer()) {
    return p[use][instance_type].get<int64_t>();
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Rows> UsageByInstanceType(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.store().Query("SELECT buyer_account, product_id, use, instance_type,"
                                   " SUM(quantity) FROM usage_records WHERE seller_account = ?"
                                   " AND hour >= ? AND hour < ?"
                                   " GROUP BY buyer_account, product_id, use, instance_type",
                                   {c.seller(), p.start, p.end}));
  Rows out;
  for (const SqlRow& r : rows) {
    if (!c.Product(r.Text(1))) continue;
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(r.Text(0), r.Text(1)));
    bool inference = r.Text(2) == "Inference";
    row.push_back(r.Text(2));
    row.push_back(r.Text(3));
    row.push_back(inference ? std::to_string(r.Int(4)) : FormatInstanceHours(r.Int(4)));
    row.push_back(inference ? "Inferences" : "Hrs");
    out.push_back(std::move(row));
  }
  SortCustomerRows(out);
  return out;
}

absl::StatusOr<Rows> DailyFees(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(auto terms, LoadTerms(c));
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.store().Query("SELECT buyer_account, product_id, subscription_id, use,"
                                   " instance_type, hour, quantity FROM usage_records"
                                   " WHERE seller_account = ? AND hour >= ? AND hour < ?",
                                   {c.seller(), p.start, p.end}));
  // Quantities are summed per subscription and pricing before pricing them, as an invoice
  // line would be; rows then add the amounts per customer, product, use and type.
  using Line = std::tuple<std::string, std::string, std::string, std::string, std::string,
                          std::string>;  // buyer, product, use, type, pricing, subscription
  std::map<Line, int64_t> quantities;
  for (const SqlRow& r : rows) {
    const ProductRow* product = c.Product(r.Text(1));
    if (!product) continue;
    std::string buyer = r.Text(0), sub = r.Text(2), use = r.Text(3), type = r.Text(4);
    auto t = terms.find(sub);
    std::string pricing = "Paid";
    if (product->test_accounts.count(buyer)) {
      pricing = "TestAccount";
    } else if (t == terms.end() || !PriceOf(t->second.offer, use, type)) {
      pricing = "Free";
    } else if (use != "Inference" && t->second.trial_end > 0 && r.Int(5) < t->second.trial_end) {
      pricing = "FreeTrial";
    }
    quantities[{buyer, r.Text(1), use, type, pricing, sub}] += r.Int(6);
  }
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, int64_t>
      amounts;
  for (const auto& [line, quantity] : quantities) {
    const auto& [buyer, product, use, type, pricing, sub] = line;
    int64_t amount = 0;
    if (pricing == "Paid") {
      int64_t price = *PriceOf(terms[sub].offer, use, type);
      if (use == "Inference") {
        amount = quantity * price;
      } else {
        int64_t seconds = quantity / 1000000;
        amount = static_cast<int64_t>((static_cast<__int128>(seconds) * price + 1800) / 3600);
      }
    }
    amounts[{buyer, product, use, type, pricing}] += amount;
  }
  Rows out;
  for (const auto& [key, amount] : amounts) {
    const auto& [buyer, product, use, type, pricing] = key;
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(buyer, product));
    row.insert(row.end(), {use, type, pricing, FormatUsd6(amount), "USD"});
    out.push_back(std::move(row));
  }
  SortCustomerRows(out);
  return out;
}

absl::StatusOr<Rows> FreeTrialConversions(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows subs,
                   c.store().Query("SELECT id, account_id, product_id, trial_start, trial_end,"
                                   " cancelled_at, expired_at FROM subscriptions"
                                   " WHERE seller_account = ? AND trial_end >= ? AND trial_end < ?",
                                   {c.seller(), p.start, p.end}));
  Rows out;
  for (const SqlRow& s : subs) {
    const ProductRow* product = c.Product(s.Text(2));
    if (!product || s.Int(4) == 0) continue;
    int64_t trial_end = s.Int(4);
    int64_t cancelled = s.Int(5), expired = s.Int(6);
    bool stayed =
        (cancelled == 0 || cancelled >= trial_end) && (expired == 0 || expired >= trial_end);
    bool paid_usage = false;
    if (!product->test_accounts.count(s.Text(1))) {
      // Any hour reaching past the trial's end counts: its seconds after the end are paid.
      ASSIGN_OR_RETURN(SqlRows used,
                       c.store().Query("SELECT COUNT(*) FROM usage_records WHERE subscription_id"
                                       " = ? AND hour > ? AND quantity > 0",
                                       {s.Text(0), trial_end - kHourMicros}));
      paid_usage = !used.empty() && used[0].Int(0) > 0;
    }
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(s.Text(1), s.Text(2)));
    row.insert(row.end(),
               {FormatDay(s.Int(3)), FormatDay(trial_end), (stayed || paid_usage) ? "Yes" : "No"});
    out.push_back(std::move(row));
  }
  SortCustomerRows(out);
  return out;
}

absl::StatusOr<Rows> NewInstances(ReportContext& c, const ReportPeriod& p) {
  const std::pair<const char*, const char*> kTables[] = {
      {"endpoint_instances", "Endpoint"},
      {"transform_job_instances", "Transform"},
      {"training_job_instances", "Training"},
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int64_t> counts;
  for (const auto& [table, use] : kTables) {
    ASSIGN_OR_RETURN(SqlRows rows, c.store().Query(std::string("SELECT account_id, instance_type,"
                                                               " product_ids FROM ") +
                                                       table +
                                                       " WHERE started_at >= ? AND started_at < ?"
                                                       " AND product_ids <> '[]'",
                                                   {p.start, p.end}));
    for (const SqlRow& r : rows) {
      auto ids = ParseJson(r.Text(2));
      if (!ids.ok() || !ids->is_array()) continue;
      for (const Json& id : *ids) {
        if (!id.is_string() || !c.Product(id.get<std::string>())) continue;
        ++counts[{r.Text(0), id.get<std::string>(), use, r.Text(1)}];
      }
    }
  }
  Rows out;
  for (const auto& [key, n] : counts) {
    const auto& [buyer, product, use, type] = key;
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(buyer, product));
    row.insert(row.end(), {use, type, std::to_string(n)});
    out.push_back(std::move(row));
  }
  SortCustomerRows(out);
  return out;
}

absl::StatusOr<Rows> NewSubscribers(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows subs,
                   c.store().Query("SELECT account_id, product_id, created_at, ref_tag, trial_end"
                                   " FROM subscriptions WHERE seller_account = ?"
                                   " AND created_at >= ? AND created_at < ?",
                                   {c.seller(), p.start, p.end}));
  Rows out;
  for (const SqlRow& s : subs) {
    if (!c.Product(s.Text(1))) continue;
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(s.Text(0), s.Text(1)));
    row.insert(row.end(), {FormatDay(s.Int(2)), s.Text(3), s.Int(4) ? FormatDay(s.Int(4)) : ""});
    out.push_back(std::move(row));
  }
  SortCustomerRows(out);
  return out;
}

absl::StatusOr<Rows> CanceledSubscribers(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows subs,
                   c.store().Query("SELECT account_id, product_id, created_at, cancelled_at"
                                   " FROM subscriptions WHERE seller_account = ?"
                                   " AND cancelled_at >= ? AND cancelled_at < ?",
                                   {c.seller(), p.start, p.end}));
  Rows out;
  for (const SqlRow& s : subs) {
    if (!c.Product(s.Text(1))) continue;
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(s.Text(0), s.Text(1)));
    row.insert(row.end(), {FormatDay(s.Int(2)), FormatDay(s.Int(3))});
    out.push_back(std::move(row));
  }
  SortCustomerRows(out);
  return out;
}

absl::StatusOr<Rows> RefTags(ReportContext& c, const ReportPeriod& p) {
  struct Counts {
    int64_t visits = 0, visitors = 0, subscriptions = 0;
  };
  std::map<std::pair<std::string, std::string>, Counts> by_tag;  // (product, tag)
  ASSIGN_OR_RETURN(SqlRows visits,
                   c.store().Query("SELECT v.product_id, v.ref_tag, COUNT(*),"
                                   " COUNT(DISTINCT v.visitor_account) FROM product_visits v"
                                   " JOIN products p ON p.id = v.product_id"
                                   " WHERE p.seller_account = ? AND v.visited_at >= ?"
                                   " AND v.visited_at < ? AND v.ref_tag <> ''"
                                   " GROUP BY v.product_id, v.ref_tag",
                                   {c.seller(), p.start, p.end}));
  for (const SqlRow& r : visits) {
    Counts& n = by_tag[{r.Text(0), r.Text(1)}];
    n.visits = r.Int(2);
    n.visitors = r.Int(3);
  }
  ASSIGN_OR_RETURN(SqlRows subs,
                   c.store().Query("SELECT product_id, ref_tag, COUNT(*) FROM subscriptions"
                                   " WHERE seller_account = ? AND created_at >= ?"
                                   " AND created_at < ? AND ref_tag <> ''"
                                   " GROUP BY product_id, ref_tag",
                                   {c.seller(), p.start, p.end}));
  for (const SqlRow& r : subs) by_tag[{r.Text(0), r.Text(1)}].subscriptions = r.Int(2);
  Rows out;
  for (const auto& [key, n] : by_tag) {
    const ProductRow* product = c.Product(key.first);
    if (!product) continue;
    out.push_back({product->title, product->code, key.second, std::to_string(n.visits),
                   std::to_string(n.visitors), std::to_string(n.subscriptions)});
  }
  SortRows(out, {1, 2});
  return out;
}

}  // namespace mercato::commerce::report_internal
