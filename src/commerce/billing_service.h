// BillingService: month close, buyers' bills, refunds as adjustment documents, and sellers'
// disbursements (issue 6). Prices come from PriceList, tax from TaxTable, the prices in force
// per subscription from PriceChanges; the arithmetic is InvoiceBuilder's and
// disbursement.h's.
//
// CloseMonth("YYYY-MM"):
//   - refuses a month that has not ended on the Clock (FailedPrecondition "MonthNotEnded")
//     and a malformed month (InvalidArgument "InvalidMonth"); nothing is written then;
//   - writes, in ONE transaction, the billing_periods row, one invoice per buyer with usage
//     (invoices + invoice_lines), and one disbursement per seller with software lines in the
//     month or refunds pending (disbursements), marking those refunds settled;
//   - is idempotent: a closed month returns its recorded summary with "AlreadyClosed": true
//     and is never billed again (the period row's primary key guards concurrent closes).
// Issued documents never change. Refund() writes a new Adjustment (negative amounts, the
// invoice's tax rate) referring to the invoice: with ProductId it refunds that product's
// Paid software charges (at most what is left of them) and the seller's next disbursement
// subtracts it; without, it credits infrastructure charges (at most what is left).
// Thread-safe; borrows everything it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "commerce/billing_types.h"
#include "commerce/price_changes.h"
#include "commerce/price_list.h"
#include "commerce/tax_rates.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct BillingOptions {
  // The product's seller, test accounts and offer; NotFound when unknown.
  ProductLookup product;
  // The seller's payout details, masked ({"BankAccount": "****6789", "BankRouting": ...}).
  std::function<absl::StatusOr<Json>(std::string_view seller)> payout_view;
  // Meters all usage up to now before a month is closed (so the month's last seconds and
  // counted inferences are in); unset: nothing to flush.
  std::function<absl::Status()> flush_usage;
};

class BillingService {
 public:
  BillingService(MetadataStore& store, const Clock& clock, PriceList& prices, TaxTable& taxes,
                 PriceChanges& changes, BillingOptions options);

  // {"Month","AlreadyClosed","ClosedAt","Invoices","Disbursements","Total","TotalMicros"}.
  absl::StatusOr<Json> CloseMonth(std::string_view month);
  // Months with usage that ended at or before `until` (micros) and follow the last closed
  // month, oldest first (what the automatic close does).
  absl::StatusOr<std::vector<std::string>> MonthsToClose(int64_t until);
  // The closed months: {"Periods": [{"Month","ClosedAt","Invoices",...}]}.
  absl::StatusOr<Json> Periods();

  // The buyer's invoices and adjustments (without lines), optionally of one month.
  absl::StatusOr<std::vector<Invoice>> Bills(std::string_view account,
                                             std::optional<std::string> month);
  // One document with its lines; NotFound "InvoiceNotFound" unless it is the account's
  // (the operator sees all).
  absl::StatusOr<Invoice> Bill(std::string_view account, std::string_view id, bool is_operator);
  // {"InvoiceId","Amount" (USD string, > 0),"Reason", optional "ProductId"}.
  absl::StatusOr<Invoice> Refund(const Json& request);

  absl::StatusOr<std::vector<Disbursement>> Disbursements(std::string_view seller);
  // {"Disbursements": [...], "PendingRefunds", "PayoutAccount": {masked}}.
  absl::StatusOr<Json> DisbursementsJson(std::string_view seller);
  // Set before serving (the wiring builds the seller view after this service).
  void set_payout_view(std::function<absl::StatusOr<Json>(std::string_view)> fn) {
    options_.payout_view = std::move(fn);
  }

 private:
  absl::StatusOr<Json> PeriodJson(std::string_view month, bool already_closed);
  absl::StatusOr<std::vector<Invoice>> BuildInvoices(const MonthRange& range, int64_t now);

  MetadataStore& store_;
  const Clock& clock_;
  PriceList& prices_;
  TaxTable& taxes_;
  PriceChanges& changes_;
  BillingOptions options_;
};

}  // namespace mercato::commerce
