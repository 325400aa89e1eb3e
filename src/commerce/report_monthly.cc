// The monthly and disbursement data sets of the report service. Billed figures come from
// the seller's Software invoice lines. Monthly revenue and tax list Invoice and Adjustment
// documents of the month (adjustments carry negative amounts); a disbursement's gross
// revenue is its month's Invoice lines and its refunds those billing settled in it
// (refund_settlements.disbursement_id). Listing fees round per row, so rows may differ from
// the disbursement's one seller-month rounding by under a micro-dollar per product.
#include <algorithm>
#include <map>
#include <tuple>

#include "base/status.h"
#include "commerce/report_internal.h"

namespace mercato::commerce::report_internal {
namespace {

void SortRows(Rows& rows, std::vector<size_t> key) {
  std::sort(rows.begin(), rows.end(), [&key](const auto& a, const auto& b) {
    for (size_t k : key) {
      if (a[k] != b[k]) return a[k] < b[k];
    }
    return a < b;
  });
}

}  // namespace

absl::StatusOr<Rows> HourlyMonthlySubscriptions(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows subs,
                   c.store().Query("SELECT account_id, product_id, created_at, cancelled_at,"
                                   " expired_at, trial_end FROM subscriptions"
                                   " WHERE seller_account = ? AND created_at < ?",
                                   {c.seller(), p.end}));
  Rows out;
  for (const SqlRow& s : subs) {
    if (!c.Product(s.Text(1))) continue;
    int64_t end = 0;
    for (int64_t t : {s.Int(3), s.Int(4)}) {
      if (t != 0 && (end == 0 || t < end)) end = t;
    }
    if (end != 0 && end < p.start) continue;  // over before the month began
    ASSIGN_OR_RETURN(auto row, c.CustomerProductCells(s.Text(0), s.Text(1)));
    row.insert(row.end(), {FormatDay(s.Int(2)), end ? FormatDay(end) : "",
                           s.Int(5) ? FormatDay(s.Int(5)) : ""});
    out.push_back(std::move(row));
  }
  SortRows(out, {4, 0, 5});
  return out;
}

absl::StatusOr<Rows> BillingAndRevenue(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows lines,
                   c.store().Query("SELECT i.id, i.kind, i.buyer_account, i.tax_state,"
                                   " i.tax_country, l.product_id, SUM(l.amount)"
                                   " FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
                                   " WHERE l.seller_account = ? AND l.kind = 'Software'"
                                   " AND i.month = ?"
                                   " GROUP BY i.id, i.kind, i.buyer_account, i.tax_state,"
                                   " i.tax_country, l.product_id",
                                   {c.seller(), p.month}));
  Rows out;
  for (const SqlRow& r : lines) {
    const ProductRow* product = c.Product(r.Text(5));
    if (!product) continue;
    int64_t billed = r.Int(6);
    int64_t fee = ScalePpm(billed, c.ListingFeePpm(r.Text(5)));
    out.push_back({r.Text(0), r.Text(1), c.Ref(r.Text(2)), r.Text(3), r.Text(4), product->title,
                   product->code, FormatUsd6(billed), FormatUsd6(fee), FormatUsd6(billed - fee),
                   "USD"});
  }
  SortRows(out, {6, 2, 0});
  return out;
}

absl::StatusOr<Rows> SalesAndUseTax(ReportContext& c, const ReportPeriod& p) {
  ASSIGN_OR_RETURN(SqlRows lines,
                   c.store().Query("SELECT i.id, i.kind, i.buyer_account, i.tax_country,"
                                   " i.tax_state, i.tax_rate_ppm, l.product_id, SUM(l.amount)"
                                   " FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
                                   " WHERE l.seller_account = ? AND l.kind = 'Software'"
                                   " AND i.month = ? AND i.tax_country = 'US'"
                                   " GROUP BY i.id, i.kind, i.buyer_account, i.tax_country,"
                                   " i.tax_state, i.tax_rate_ppm, l.product_id",
                                   {c.seller(), p.month}));
  Rows out;
  for (const SqlRow& r : lines) {
    const ProductRow* product = c.Product(r.Text(6));
    if (!product) continue;
    int64_t taxable = r.Int(7), rate = r.Int(5);
    out.push_back({r.Text(0), r.Text(1), c.Ref(r.Text(2)), r.Text(3), r.Text(4), product->title,
                   product->code, FormatUsd6(taxable), FormatMillionths(rate),
                   FormatUsd6(ScalePpm(taxable, rate)), "USD"});
  }
  SortRows(out, {6, 2, 0});
  return out;
}

absl::StatusOr<std::string> LatestDisbursementMonth(ReportContext& c, int64_t from, int64_t to) {
  ASSIGN_OR_RETURN(SqlRows rows, c.store().Query("SELECT month FROM disbursements"
                                                 " WHERE seller_account = ? AND created_at >= ?"
                                                 " AND created_at < ?"
                                                 " ORDER BY created_at DESC LIMIT 1",
                                                 {c.seller(), from, to}));
  return rows.empty() ? std::string() : rows[0].Text(0);
}

absl::StatusOr<Rows> Disbursed(ReportContext& c, std::string_view type, const std::string& month) {
  ASSIGN_OR_RETURN(SqlRows disbursement, c.store().Query("SELECT id, created_at FROM disbursements"
                                                         " WHERE seller_account = ? AND month = ?",
                                                         {c.seller(), month}));
  if (disbursement.empty()) return Rows{};  // nothing disbursed (yet) for that month
  std::string id = disbursement[0].Text(0);
  std::string date = FormatDay(disbursement[0].Int(1));
  ASSIGN_OR_RETURN(SqlRows lines,
                   c.store().Query("SELECT i.kind, i.tax_country, i.tax_state, l.product_id,"
                                   " l.use, l.instance_type, l.pricing, l.unit,"
                                   " SUM(l.quantity), SUM(l.amount)"
                                   " FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
                                   " WHERE l.seller_account = ? AND l.kind = 'Software'"
                                   " AND i.month = ?"
                                   " GROUP BY i.kind, i.tax_country, i.tax_state, l.product_id,"
                                   " l.use, l.instance_type, l.pricing, l.unit",
                                   {c.seller(), month}));
  struct Sums {
    int64_t gross = 0, refunds = 0, seconds = 0;
  };
  // Key: product id then the type's extra columns.
  std::map<std::vector<std::string>, Sums> sums;
  bool geo = type == "disbursed_amount_by_customer_geo";
  bool hours = type == "disbursed_amount_by_instance_hours";
  for (const SqlRow& r : lines) {
    if (!c.Product(r.Text(3)) || r.Text(0) != "Invoice") continue;
    std::vector<std::string> key = {r.Text(3)};
    if (geo) key.insert(key.end(), {r.Text(1), r.Text(2)});
    if (hours) {
      if (r.Text(7) != "Seconds") continue;
      key.insert(key.end(), {r.Text(4), r.Text(5), r.Text(6)});
    }
    Sums& s = sums[key];
    s.gross += r.Int(9);
    s.seconds += r.Int(8);
  }
  // Refunds are the ones billing settled in this disbursement (refund_settlements), each
  // placed by its adjustment document's address, or its adjustment lines' use and type.
  ASSIGN_OR_RETURN(
      SqlRows refunds,
      c.store().Query(hours ? "SELECT r.product_id, l.use, l.instance_type, l.pricing,"
                              " -SUM(l.amount) FROM refund_settlements r"
                              " JOIN invoice_lines l ON l.invoice_id = r.adjustment_id"
                              " AND l.product_id = r.product_id AND l.kind = 'Software'"
                              " AND l.unit = 'Seconds'"
                              " WHERE r.disbursement_id = ? AND r.seller_account = ?"
                              " GROUP BY r.product_id, l.use, l.instance_type, l.pricing"
                            : "SELECT r.product_id, i.tax_country, i.tax_state, '',"
                              " SUM(r.amount) FROM refund_settlements r"
                              " LEFT JOIN invoices i ON i.id = r.adjustment_id"
                              " WHERE r.disbursement_id = ? AND r.seller_account = ?"
                              " GROUP BY r.product_id, i.tax_country, i.tax_state",
                      {id, c.seller()}));
  for (const SqlRow& r : refunds) {
    if (!c.Product(r.Text(0))) continue;
    std::vector<std::string> key = {r.Text(0)};
    if (geo) key.insert(key.end(), {r.Text(1), r.Text(2)});
    if (hours) key.insert(key.end(), {r.Text(1), r.Text(2), r.Text(3)});
    sums[key].refunds += r.Int(4);
  }
  Rows out;
  for (const auto& [key, s] : sums) {
    const ProductRow* product = c.Product(key[0]);
    int64_t fee = ScalePpm(s.gross, c.ListingFeePpm(key[0]));
    std::vector<std::string> row = {id, date, product->title, product->code};
    row.insert(row.end(), key.begin() + 1, key.end());
    if (type == "disbursed_amount_by_instance_hours") {
      row.push_back(FormatInstanceHours(s.seconds * 1000000));
    }
    row.insert(row.end(), {FormatUsd6(s.gross), FormatUsd6(s.refunds), FormatUsd6(fee),
                           FormatUsd6(s.gross - fee - s.refunds), "USD"});
    out.push_back(std::move(row));
  }
  SortRows(out, {3});
  return out;
}

}  // namespace mercato::commerce::report_internal
