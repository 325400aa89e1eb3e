// BillingService: month close, bills and disbursements (refunds are in billing_refunds.cc).
#include "commerce/billing_service.h"

#include <set>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "base/time_format.h"
#include "commerce/disbursement.h"
#include "commerce/invoice_builder.h"
#include "commerce/invoice_rows.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato::commerce {
namespace {

std::string Iso(int64_t micros) { return FormatIso8601(absl::FromUnixMicros(micros)); }

}  // namespace

BillingService::BillingService(MetadataStore& store, const Clock& clock, PriceList& prices,
                               TaxTable& taxes, PriceChanges& changes, BillingOptions options)
    : store_(store),
      clock_(clock),
      prices_(prices),
      taxes_(taxes),
      changes_(changes),
      options_(std::move(options)) {}

absl::StatusOr<Json> BillingService::PeriodJson(std::string_view month, bool already_closed) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT month, closed_at, invoices, disbursements,"
                                              " total FROM billing_periods WHERE month = ?",
                                              {std::string(month)}));
  if (rows.empty()) return absl::NotFoundError(fmt::format("month {} is not closed", month));
  const SqlRow& r = rows[0];
  return Json{{"Month", r.Text(0)},
              {"AlreadyClosed", already_closed},
              {"ClosedAt", Iso(r.Int(1))},
              {"Invoices", r.Int(2)},
              {"Disbursements", r.Int(3)},
              {"Total", fmt::format("{}.{:06d}", r.Int(4) / 1'000'000, r.Int(4) % 1'000'000)},
              {"TotalMicros", r.Int(4)}};
}

absl::StatusOr<std::vector<Invoice>> BillingService::BuildInvoices(const MonthRange& range,
                                                                   int64_t now) {
  // Raw rows, not GROUP BY: the builder sums them in one pass, which is cheaper than
  // sorting a million rows in SQL.
  ASSIGN_OR_RETURN(SqlRows usage, store_.Query("SELECT buyer_account, subscription_id, product_id,"
                                               " seller_account, use, instance_type, hour, quantity"
                                               " FROM usage_records WHERE hour >= ? AND hour < ?",
                                               {range.start, range.end}));
  std::set<std::string> subscriptions;
  std::set<std::string> products;
  for (const SqlRow& r : usage) {
    if (r.Text(2).empty()) continue;
    subscriptions.insert(r.Text(1));
    products.insert(r.Text(2));
  }
  ASSIGN_OR_RETURN(auto timelines, changes_.Timelines(subscriptions, range.end));
  InvoiceInputs in;
  in.month = range.month;
  in.issued_at = now;
  in.timelines = &timelines;
  for (const std::string& id : products) {
    if (!options_.product) return absl::UnavailableError("the product catalog is not available");
    absl::StatusOr<BillingProduct> p = options_.product(id);
    if (!p.ok()) {
      if (p.status().code() == absl::StatusCode::kNotFound) continue;
      return p.status();  // never bill test accounts because the catalog was unavailable
    }
    in.test_accounts[id].insert(p->test_accounts.begin(), p->test_accounts.end());
  }
  ASSIGN_OR_RETURN(in.infrastructure, prices_.Infrastructure());
  ASSIGN_OR_RETURN(in.tax_rates, taxes_.Rates());
  ASSIGN_OR_RETURN(auto addresses, taxes_.StoredAddresses());
  TaxTable* taxes = &taxes_;
  in.address = [&addresses, taxes](const std::string& buyer) {
    auto it = addresses.find(buyer);
    return it != addresses.end() ? it->second : taxes->DefaultAddress(buyer);
  };
  in.new_id = [] { return NewId("inv-"); };
  InvoiceBuilder builder(std::move(in));
  UsageAggregate u;
  for (const SqlRow& r : usage) {
    u.buyer_account = r.Text(0);
    u.subscription_id = r.Text(1);
    u.product_id = r.Text(2);
    u.seller_account = r.Text(3);
    u.use = r.Text(4);
    u.instance_type = r.Text(5);
    u.hour = r.Int(6);
    u.quantity = r.Int(7);
    builder.Add(u);
  }
  return builder.Finish();
}

absl::StatusOr<Json> BillingService::CloseMonth(std::string_view month) {
  ASSIGN_OR_RETURN(MonthRange range, ParseMonth(month));
  int64_t now = absl::ToUnixMicros(clock_.Now());
  if (range.end > now) {
    return AwsError(absl::StatusCode::kFailedPrecondition, "MonthNotEnded",
                    fmt::format("month {} has not ended: it ends at {} and it is now {}", month,
                                Iso(range.end), Iso(now)));
  }
  if (absl::StatusOr<Json> done = PeriodJson(month, true); done.ok()) return done;
  if (options_.flush_usage) RETURN_IF_ERROR(options_.flush_usage());
  ASSIGN_OR_RETURN(std::vector<Invoice> invoices, BuildInvoices(range, now));
  std::map<std::string, SellerMonth> sellers = SellerTotals(invoices);
  ASSIGN_OR_RETURN(auto overrides, prices_.ListingFeeOverrides());

  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  absl::StatusOr<int64_t> claimed = tx->Exec(
      "INSERT INTO billing_periods (month, closed_at, invoices, disbursements, total)"
      " VALUES (?, ?, 0, 0, 0)",
      {range.month, now});
  if (claimed.status().code() == absl::StatusCode::kAlreadyExists) {
    tx.reset();  // closed meanwhile by another caller
    return PeriodJson(month, true);
  }
  RETURN_IF_ERROR(claimed.status());
  int64_t total = 0;
  for (const Invoice& inv : invoices) {
    RETURN_IF_ERROR(InsertInvoice(*tx, inv));
    total += inv.total;
  }
  // Refunds not yet subtracted from a disbursement, read inside the transaction.
  ASSIGN_OR_RETURN(SqlRows pending, tx->Query("SELECT seller_account, SUM(amount) FROM"
                                              " refund_settlements WHERE disbursement_id = ''"
                                              " GROUP BY seller_account"));
  std::map<std::string, int64_t> refunds;
  for (const SqlRow& r : pending) {
    refunds[r.Text(0)] = r.Int(1);
    sellers[r.Text(0)];  // a seller owing refunds gets a disbursement too
  }
  int64_t disbursed = 0;
  for (const auto& [seller, m] : sellers) {
    int64_t fee = ListingFee(m, overrides, prices_.default_listing_fee_ppm());
    Disbursement d = MakeDisbursement(NewId("dsb-"), seller, range.month, m, fee,
                                      refunds.count(seller) ? refunds[seller] : 0, now);
    RETURN_IF_ERROR(InsertDisbursement(*tx, d));
    if (d.refunds != 0) {
      RETURN_IF_ERROR(tx->Exec("UPDATE refund_settlements SET disbursement_id = ? WHERE"
                               " seller_account = ? AND disbursement_id = ''",
                               {d.id, seller})
                          .status());
    }
    ++disbursed;
  }
  RETURN_IF_ERROR(tx->Exec("UPDATE billing_periods SET invoices = ?, disbursements = ?,"
                           " total = ? WHERE month = ?",
                           {static_cast<int64_t>(invoices.size()), disbursed, total, range.month})
                      .status());
  RETURN_IF_ERROR(tx->Commit());
  spdlog::info("billing: closed {}: {} invoices, {} disbursements", range.month, invoices.size(),
               disbursed);
  return PeriodJson(month, false);
}

absl::StatusOr<std::vector<std::string>> BillingService::MonthsToClose(int64_t until) {
  ASSIGN_OR_RETURN(SqlRows last, store_.Query("SELECT MAX(month) FROM billing_periods"));
  int64_t from = 0;
  if (!last.empty() && !last[0].IsNull(0)) {
    ASSIGN_OR_RETURN(MonthRange m, ParseMonth(last[0].Text(0)));
    from = m.end;
  }
  std::vector<std::string> out;
  for (int guard = 0; guard < 1200; ++guard) {
    ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT MIN(hour) FROM usage_records WHERE"
                                                " hour >= ? AND hour < ?",
                                                {from, until}));
    if (rows.empty() || rows[0].IsNull(0)) break;
    MonthRange m = MonthOf(rows[0].Int(0));
    if (m.end > until) break;
    out.push_back(m.month);
    from = m.end;
  }
  return out;
}

absl::StatusOr<Json> BillingService::Periods() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT month FROM billing_periods ORDER BY month"));
  Json list = Json::array();
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(Json p, PeriodJson(r.Text(0), true));
    p.erase("AlreadyClosed");
    list.push_back(std::move(p));
  }
  return Json{{"Periods", list}};
}

absl::StatusOr<std::vector<Invoice>> BillingService::Bills(std::string_view account,
                                                           std::optional<std::string> month) {
  std::string sql = fmt::format("SELECT {} FROM invoices WHERE buyer_account = ?", kInvoiceColumns);
  SqlParams params{std::string(account)};
  if (month) {
    RETURN_IF_ERROR(ParseMonth(*month).status());
    sql += " AND month = ?";
    params.push_back(*month);
  }
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(sql + " ORDER BY month, issued_at, id", params));
  std::vector<Invoice> out;
  for (const SqlRow& r : rows) out.push_back(InvoiceFromRow(r));
  return out;
}

absl::StatusOr<Invoice> BillingService::Bill(std::string_view account, std::string_view id,
                                             bool is_operator) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(fmt::format("SELECT {} FROM invoices WHERE id = ?",
                                                          kInvoiceColumns),
                                              {std::string(id)}));
  if (rows.empty() || (!is_operator && rows[0].Text(1) != account)) {
    return AwsError(absl::StatusCode::kNotFound, "InvoiceNotFound",
                    fmt::format("no invoice {}", id));
  }
  Invoice inv = InvoiceFromRow(rows[0]);
  ASSIGN_OR_RETURN(SqlRows lines, store_.Query(fmt::format("SELECT {} FROM invoice_lines WHERE"
                                                           " invoice_id = ? ORDER BY line_no",
                                                           kLineColumns),
                                               {inv.id}));
  for (const SqlRow& r : lines) inv.lines.push_back(LineFromRow(r));
  return inv;
}

absl::StatusOr<std::vector<Disbursement>> BillingService::Disbursements(std::string_view seller) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(fmt::format("SELECT {} FROM disbursements WHERE"
                                                          " seller_account = ? ORDER BY month",
                                                          kDisbursementColumns),
                                              {std::string(seller)}));
  std::vector<Disbursement> out;
  for (const SqlRow& r : rows) out.push_back(DisbursementFromRow(r));
  return out;
}

absl::StatusOr<Json> BillingService::DisbursementsJson(std::string_view seller) {
  ASSIGN_OR_RETURN(std::vector<Disbursement> list, Disbursements(seller));
  Json items = Json::array();
  for (const Disbursement& d : list) items.push_back(DisbursementJson(d));
  ASSIGN_OR_RETURN(SqlRows pending, store_.Query("SELECT SUM(amount) FROM refund_settlements"
                                                 " WHERE seller_account = ? AND"
                                                 " disbursement_id = ''",
                                                 {std::string(seller)}));
  int64_t owed = pending.empty() ? 0 : pending[0].Int(0);
  Json out{{"Disbursements", items}, {"PendingRefundsMicros", owed}};
  out["PayoutAccount"] = nullptr;
  if (options_.payout_view) {
    absl::StatusOr<Json> payout = options_.payout_view(seller);
    if (payout.ok()) out["PayoutAccount"] = *payout;
  }
  return out;
}

}  // namespace mercato::commerce
