#include "commerce/invoice_rows.h"

#include "base/status.h"
#include "fmt/format.h"

namespace mercato::commerce {

Invoice InvoiceFromRow(const SqlRow& r) {
  Invoice inv;
  size_t i = 0;
  inv.id = r.Text(i++);
  inv.buyer_account = r.Text(i++);
  inv.month = r.Text(i++);
  inv.kind = r.Text(i++);
  inv.refers_to = r.Text(i++);
  inv.reason = r.Text(i++);
  inv.issued_at = r.Int(i++);
  inv.software_subtotal = r.Int(i++);
  inv.infrastructure_subtotal = r.Int(i++);
  inv.tax = r.Int(i++);
  inv.total = r.Int(i++);
  inv.tax_country = r.Text(i++);
  inv.tax_state = r.Text(i++);
  inv.tax_rate_ppm = r.Int(i++);
  return inv;
}

InvoiceLine LineFromRow(const SqlRow& r) {
  InvoiceLine l;
  size_t i = 1;  // column 0 is the invoice id
  l.line_no = r.Int(i++);
  l.kind = r.Text(i++);
  l.product_id = r.Text(i++);
  l.seller_account = r.Text(i++);
  l.subscription_id = r.Text(i++);
  l.use = r.Text(i++);
  l.instance_type = r.Text(i++);
  l.pricing = r.Text(i++);
  l.quantity = r.Int(i++);
  l.unit = r.Text(i++);
  l.unit_price = r.Int(i++);
  l.amount = r.Int(i++);
  return l;
}

Disbursement DisbursementFromRow(const SqlRow& r) {
  Disbursement d;
  size_t i = 0;
  d.id = r.Text(i++);
  d.seller_account = r.Text(i++);
  d.month = r.Text(i++);
  d.software_revenue = r.Int(i++);
  d.listing_fee = r.Int(i++);
  d.refunds = r.Int(i++);
  d.tax_collected = r.Int(i++);
  d.amount = r.Int(i++);
  d.created_at = r.Int(i++);
  return d;
}

absl::Status InsertInvoice(Transaction& tx, const Invoice& inv) {
  RETURN_IF_ERROR(
      tx.Exec(fmt::format("INSERT INTO invoices ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                          " ?, ?)",
                          kInvoiceColumns),
              {inv.id, inv.buyer_account, inv.month, inv.kind, inv.refers_to, inv.reason,
               inv.issued_at, inv.software_subtotal, inv.infrastructure_subtotal, inv.tax,
               inv.total, inv.tax_country, inv.tax_state, inv.tax_rate_ppm})
          .status());
  // Several lines per statement: month close writes tens of thousands of them.
  constexpr size_t kBatch = 50;
  for (size_t start = 0; start < inv.lines.size(); start += kBatch) {
    size_t end = std::min(inv.lines.size(), start + kBatch);
    std::string sql = fmt::format("INSERT INTO invoice_lines ({}) VALUES ", kLineColumns);
    SqlParams params;
    for (size_t k = start; k < end; ++k) {
      const InvoiceLine& l = inv.lines[k];
      sql += k == start ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        : ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      for (SqlValue v : std::initializer_list<SqlValue>{
               inv.id, l.line_no, l.kind, l.product_id, l.seller_account, l.subscription_id, l.use,
               l.instance_type, l.pricing, l.quantity, l.unit, l.unit_price, l.amount}) {
        params.push_back(std::move(v));
      }
    }
    RETURN_IF_ERROR(tx.Exec(sql, params).status());
  }
  return absl::OkStatus();
}

absl::Status InsertDisbursement(Transaction& tx, const Disbursement& d) {
  return tx
      .Exec(fmt::format("INSERT INTO disbursements ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        kDisbursementColumns),
            {d.id, d.seller_account, d.month, d.software_revenue, d.listing_fee, d.refunds,
             d.tax_collected, d.amount, d.created_at})
      .status();
}

}  // namespace mercato::commerce
