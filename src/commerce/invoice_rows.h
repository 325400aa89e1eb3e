// Internal to the billing library: invoices/invoice_lines/disbursements rows. Pure helpers
// over a Transaction or the store; thread-safe as their arguments are.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "commerce/billing_types.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

inline constexpr char kInvoiceColumns[] =
    "id, buyer_account, month, kind, refers_to, reason, issued_at, software_subtotal,"
    " infrastructure_subtotal, tax, total, tax_country, tax_state, tax_rate_ppm";
inline constexpr char kLineColumns[] =
    "invoice_id, line_no, kind, product_id, seller_account, subscription_id, use,"
    " instance_type, pricing, quantity, unit, unit_price, amount";
inline constexpr char kDisbursementColumns[] =
    "id, seller_account, month, software_revenue, listing_fee, refunds, tax_collected, amount,"
    " created_at";

Invoice InvoiceFromRow(const SqlRow& r);
InvoiceLine LineFromRow(const SqlRow& r);
Disbursement DisbursementFromRow(const SqlRow& r);
// Inserts the invoice and its lines.
absl::Status InsertInvoice(Transaction& tx, const Invoice& inv);
absl::Status InsertDisbursement(Transaction& tx, const Disbursement& d);

}  // namespace mercato::commerce
