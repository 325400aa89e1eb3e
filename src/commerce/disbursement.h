// Disbursement arithmetic for one closed month: what each seller earned from the month's
// invoices. Pure functions; thread-safe.
//
//   software_revenue = Σ Paid software line amounts of the seller's products
//   listing_fee      = (Σ_product revenue_p × fee_ppm_p + 500000) / 10^6, rounded once per
//                      seller-month (fee_ppm_p: the product's override or the default)
//   refunds          = software parts of the refunds issued since the seller's last
//                      disbursement (the caller supplies them)
//   tax_collected    = Σ over invoices of ApplyPpm(the seller's Paid amount on that invoice,
//                      the invoice's tax rate): shown separately, not part of `amount`
//   amount           = software_revenue − listing_fee − refunds (negative: the seller owes)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "commerce/billing_types.h"

namespace mercato::commerce {

struct SellerMonth {
  std::map<std::string, int64_t> revenue_by_product;
  int64_t software_revenue = 0;
  int64_t tax_collected = 0;
};

// Seller account → totals, over the month's invoices (kind Invoice).
std::map<std::string, SellerMonth> SellerTotals(const std::vector<Invoice>& invoices);

int64_t ListingFee(const SellerMonth& m, const std::map<std::string, int64_t>& overrides,
                   int64_t default_ppm);

Disbursement MakeDisbursement(std::string id, std::string seller, std::string month,
                              const SellerMonth& m, int64_t listing_fee, int64_t refunds,
                              int64_t created_at);

}  // namespace mercato::commerce
