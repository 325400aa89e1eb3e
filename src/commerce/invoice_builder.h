// InvoiceBuilder: turns one month's usage into invoices, in memory and without I/O, so the
// arithmetic is testable by itself and month close stays one pass over the usage.
//
// Per buyer, one Invoice with
//   - Software lines per (product, subscription, use, instance type, pricing, unit price):
//     pricing Paid; FreeTrial (instance uses in an hour that overlaps the subscription's
//     trial_start..trial_end); TestAccount (the buyer is one of the product's test
//     accounts); Free (the offer in force prices that use at 0). Only Paid lines carry an
//     amount; the others show the unit price they waived. The unit price is the one in force
//     at each usage hour (PricingTimeline), so a price change splits a line.
//   - Infrastructure lines per (use, instance type) for Endpoint/Transform/Training usage,
//     marketplace or not, trial or not, at the operator's price (0 when unlisted).
// Quantities: whole seconds = floor(the line's summed micro-seconds / 10^6), or inferences.
// Amounts per line by LineAmount, tax per invoice by ApplyPpm(subtotal, rate of the
// buyer's address). A buyer whose usage yields no line gets no invoice.
// Not thread-safe (one builder per close).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "commerce/billing_types.h"
#include "commerce/price_changes.h"
#include "commerce/price_list.h"
#include "commerce/tax_rates.h"

namespace mercato::commerce {

// One usage_records row (or a sum of rows with the same key and hour).
struct UsageAggregate {
  std::string buyer_account;
  std::string subscription_id;
  std::string product_id;
  std::string seller_account;
  std::string use;
  std::string instance_type;
  int64_t hour = 0;
  int64_t quantity = 0;  // micro-seconds, or inferences for Inference
};

struct InvoiceInputs {
  std::string month;
  int64_t issued_at = 0;
  const std::map<std::string, PricingTimeline>* timelines = nullptr;  // by subscription id
  std::map<std::string, std::set<std::string>> test_accounts;         // by product id
  InfrastructurePrices infrastructure;
  TaxRates tax_rates;
  std::function<BillingAddress(const std::string& buyer)> address;
  std::function<std::string()> new_id;
};

class InvoiceBuilder {
 public:
  explicit InvoiceBuilder(InvoiceInputs inputs);
  void Add(const UsageAggregate& usage);
  // The invoices, by buyer account; the builder is spent afterwards.
  std::vector<Invoice> Finish();

 private:
  // (product, subscription, use, instance type, pricing, unit price) → seller, quantity.
  using SoftwareKey =
      std::tuple<std::string, std::string, std::string, std::string, std::string, int64_t>;
  struct Buyer {
    std::map<SoftwareKey, std::pair<std::string, int64_t>> software;
    std::map<std::pair<std::string, std::string>, int64_t> infrastructure;
  };
  Invoice FinishBuyer(const std::string& account, const Buyer& b) const;

  InvoiceInputs in_;
  std::map<std::string, Buyer> buyers_;
};

}  // namespace mercato::commerce
