// BillingService::Refund: refunds and credits as Adjustment documents.
#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "catalog/offer.h"
#include "commerce/billing_service.h"
#include "commerce/invoice_rows.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::StatusOr<std::string> StringField(const Json& body, const char* field, bool required,
                                        size_t max) {
  if (!body.contains(field) || body[field].is_null()) {
    if (required) return Invalid(fmt::format("{} is required", field));
    return std::string();
  }
  if (!body[field].is_string()) return Invalid(fmt::format("{} must be a string", field));
  std::string v = body[field].get<std::string>();
  if ((required && v.empty()) || v.size() > max) {
    return Invalid(fmt::format("{} must be 1 to {} characters", field, max));
  }
  return v;
}

}  // namespace

absl::StatusOr<Invoice> BillingService::Refund(const Json& body) {
  if (!body.is_object()) return Invalid("the request body must be a JSON object");
  for (const auto& [key, _] : body.items()) {
    if (key != "InvoiceId" && key != "Amount" && key != "Reason" && key != "ProductId") {
      return Invalid(fmt::format("unknown field {} (InvoiceId, Amount, Reason, ProductId)", key));
    }
  }
  ASSIGN_OR_RETURN(std::string invoice_id, StringField(body, "InvoiceId", true, 64));
  ASSIGN_OR_RETURN(std::string reason, StringField(body, "Reason", true, 1000));
  ASSIGN_OR_RETURN(std::string product_id, StringField(body, "ProductId", false, 64));
  if (!body.contains("Amount")) return Invalid("Amount (USD, e.g. \"12.50\") is required");
  ASSIGN_OR_RETURN(int64_t amount, catalog::ParseUsdMicros(body["Amount"], "Amount"));
  if (amount <= 0) return Invalid("Amount must be more than 0");
  int64_t now = absl::ToUnixMicros(clock_.Now());

  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(SqlRows rows, tx->Query(fmt::format("SELECT {} FROM invoices WHERE id = ? AND"
                                                       " kind = 'Invoice'",
                                                       kInvoiceColumns),
                                           {invoice_id}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "InvoiceNotFound",
                    fmt::format("no invoice {} (adjustments cannot be refunded)", invoice_id));
  }
  Invoice original = InvoiceFromRow(rows[0]);
  bool software = !product_id.empty();
  std::string line_kind = software ? "Software" : "Infrastructure";
  // What was charged, and what earlier adjustments already gave back (negative amounts).
  std::string charged_sql = software ? " AND pricing = 'Paid' AND product_id = ?" : "";
  SqlParams charged_params{invoice_id, line_kind};
  if (software) charged_params.push_back(product_id);
  ASSIGN_OR_RETURN(SqlRows charged,
                   tx->Query("SELECT SUM(amount), MAX(seller_account) FROM invoice_lines WHERE"
                             " invoice_id = ? AND kind = ?" +
                                 charged_sql,
                             charged_params));
  SqlParams refunded_params{invoice_id, line_kind};
  if (software) refunded_params.push_back(product_id);
  ASSIGN_OR_RETURN(SqlRows refunded,
                   tx->Query(std::string("SELECT SUM(l.amount) FROM invoice_lines l JOIN invoices i"
                                         " ON l.invoice_id = i.id WHERE i.refers_to = ? AND"
                                         " i.kind = 'Adjustment' AND l.kind = ?") +
                                 (software ? " AND l.product_id = ?" : ""),
                             refunded_params));
  int64_t left = charged[0].Int(0) + refunded[0].Int(0);
  std::string what = software ? fmt::format("paid software charges of product {}", product_id)
                              : std::string("infrastructure charges");
  if (left <= 0) {
    return AwsError(absl::StatusCode::kInvalidArgument, "NothingToRefund",
                    fmt::format("invoice {} has no {} left to refund", invoice_id, what));
  }
  if (amount > left) {
    return AwsError(absl::StatusCode::kInvalidArgument, "RefundExceedsCharges",
                    fmt::format("{} is more than the {} left on invoice {} ({})",
                                catalog::FormatUsdMicros(amount), what, invoice_id,
                                catalog::FormatUsdMicros(left)));
  }
  Invoice adj;
  adj.id = NewId("adj-");
  adj.buyer_account = original.buyer_account;
  adj.month = MonthOf(now).month;  // the month it is issued in
  adj.kind = "Adjustment";
  adj.refers_to = original.id;
  adj.reason = reason;
  adj.issued_at = now;
  (software ? adj.software_subtotal : adj.infrastructure_subtotal) = -amount;
  adj.tax_country = original.tax_country;
  adj.tax_state = original.tax_state;
  adj.tax_rate_ppm = original.tax_rate_ppm;
  adj.tax = -ApplyPpm(amount, original.tax_rate_ppm);
  adj.total = -amount + adj.tax;
  InvoiceLine l;
  l.line_no = 1;
  l.kind = line_kind;
  l.product_id = product_id;
  l.seller_account = software ? charged[0].Text(1) : "";
  l.pricing = std::string(kPaid);
  l.amount = -amount;
  adj.lines.push_back(l);
  RETURN_IF_ERROR(InsertInvoice(*tx, adj));
  if (software) {
    RETURN_IF_ERROR(tx->Exec("INSERT INTO refund_settlements (adjustment_id, seller_account,"
                             " product_id, amount, created_at, disbursement_id)"
                             " VALUES (?, ?, ?, ?, ?, '')",
                             {adj.id, l.seller_account, product_id, amount, now})
                        .status());
  }
  RETURN_IF_ERROR(tx->Commit());
  return adj;
}

}  // namespace mercato::commerce
