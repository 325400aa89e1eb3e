#include "commerce/disbursement.h"

namespace mercato::commerce {

std::map<std::string, SellerMonth> SellerTotals(const std::vector<Invoice>& invoices) {
  std::map<std::string, SellerMonth> out;
  for (const Invoice& inv : invoices) {
    std::map<std::string, int64_t> paid_by_seller;
    for (const InvoiceLine& l : inv.lines) {
      if (l.kind != "Software" || l.seller_account.empty()) continue;
      SellerMonth& m = out[l.seller_account];  // every seller with software lines
      if (l.pricing != kPaid) continue;
      m.revenue_by_product[l.product_id] += l.amount;
      m.software_revenue += l.amount;
      paid_by_seller[l.seller_account] += l.amount;
    }
    for (const auto& [seller, paid] : paid_by_seller) {
      out[seller].tax_collected += ApplyPpm(paid, inv.tax_rate_ppm);
    }
  }
  return out;
}

int64_t ListingFee(const SellerMonth& m, const std::map<std::string, int64_t>& overrides,
                   int64_t default_ppm) {
  __int128 sum = 0;
  for (const auto& [product, revenue] : m.revenue_by_product) {
    auto it = overrides.find(product);
    sum += static_cast<__int128>(revenue) * (it == overrides.end() ? default_ppm : it->second);
  }
  return static_cast<int64_t>((sum + kPpm / 2) / kPpm);
}

Disbursement MakeDisbursement(std::string id, std::string seller, std::string month,
                              const SellerMonth& m, int64_t listing_fee, int64_t refunds,
                              int64_t created_at) {
  Disbursement d;
  d.id = std::move(id);
  d.seller_account = std::move(seller);
  d.month = std::move(month);
  d.software_revenue = m.software_revenue;
  d.listing_fee = listing_fee;
  d.refunds = refunds;
  d.tax_collected = m.tax_collected;
  d.amount = m.software_revenue - listing_fee - refunds;
  d.created_at = created_at;
  return d;
}

}  // namespace mercato::commerce
