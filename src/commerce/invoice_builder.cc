#include "commerce/invoice_builder.h"

#include "spdlog/spdlog.h"

namespace mercato::commerce {
namespace {

constexpr int64_t kHourMicros = 3'600'000'000;

}  // namespace

InvoiceBuilder::InvoiceBuilder(InvoiceInputs inputs) : in_(std::move(inputs)) {}

void InvoiceBuilder::Add(const UsageAggregate& u) {
  Buyer& b = buyers_[u.buyer_account];
  bool inference = u.use == kUseInference;
  if (!inference) b.infrastructure[{u.use, u.instance_type}] += u.quantity;
  if (u.product_id.empty()) return;
  int64_t price = 0;
  const PricingTimeline* t = nullptr;
  if (in_.timelines != nullptr) {
    auto it = in_.timelines->find(u.subscription_id);
    if (it != in_.timelines->end()) t = &it->second;
  }
  if (t != nullptr) {
    price = PriceIn(t->At(u.hour), u.use, u.instance_type);
  } else {
    spdlog::warn("usage of product {} by {} names unknown subscription \"{}\": billed as Free",
                 u.product_id, u.buyer_account, u.subscription_id);
  }
  std::string_view pricing = kPaid;
  if (price == 0) {
    pricing = kFree;
  } else if (auto ta = in_.test_accounts.find(u.product_id);
             ta != in_.test_accounts.end() && ta->second.count(u.buyer_account)) {
    pricing = kTestAccount;
  } else if (!inference && t->trial_end > 0 && u.hour < t->trial_end &&
             u.hour + kHourMicros > t->trial_start) {
    pricing = kFreeTrial;
  }
  auto& line = b.software[{u.product_id, u.subscription_id, u.use, u.instance_type,
                           std::string(pricing), price}];
  if (line.first.empty()) line.first = u.seller_account;
  line.second += u.quantity;
}

Invoice InvoiceBuilder::FinishBuyer(const std::string& account, const Buyer& b) const {
  Invoice inv;
  inv.id = in_.new_id();
  inv.buyer_account = account;
  inv.month = in_.month;
  inv.kind = "Invoice";
  inv.issued_at = in_.issued_at;
  for (const auto& [key, value] : b.software) {
    const auto& [product, sub, use, type, pricing, price] = key;
    InvoiceLine l;
    l.kind = "Software";
    l.product_id = product;
    l.seller_account = value.first;
    l.subscription_id = sub;
    l.use = use;
    l.instance_type = type;
    l.pricing = pricing;
    bool inference = use == kUseInference;
    l.unit = std::string(inference ? kUnitInferences : kUnitSeconds);
    l.quantity = inference ? value.second : value.second / kMicrosPerSecond;
    l.unit_price = price;
    l.amount = pricing == kPaid ? LineAmount(l.quantity, price, l.unit) : 0;
    inv.software_subtotal += l.amount;
    inv.lines.push_back(std::move(l));
  }
  for (const auto& [key, micros] : b.infrastructure) {
    InvoiceLine l;
    l.kind = "Infrastructure";
    l.use = key.first;
    l.instance_type = key.second;
    l.pricing = std::string(kPaid);
    l.unit = std::string(kUnitSeconds);
    l.quantity = micros / kMicrosPerSecond;
    auto it = in_.infrastructure.find(key);
    l.unit_price = it == in_.infrastructure.end() ? 0 : it->second;
    l.amount = LineAmount(l.quantity, l.unit_price, l.unit);
    inv.infrastructure_subtotal += l.amount;
    inv.lines.push_back(std::move(l));
  }
  for (size_t i = 0; i < inv.lines.size(); ++i) inv.lines[i].line_no = static_cast<int64_t>(i + 1);
  BillingAddress a = in_.address ? in_.address(account) : BillingAddress{};
  inv.tax_country = a.country;
  inv.tax_state = a.state;
  inv.tax_rate_ppm = RateFor(in_.tax_rates, a);
  inv.tax = ApplyPpm(inv.software_subtotal + inv.infrastructure_subtotal, inv.tax_rate_ppm);
  inv.total = inv.software_subtotal + inv.infrastructure_subtotal + inv.tax;
  return inv;
}

std::vector<Invoice> InvoiceBuilder::Finish() {
  std::vector<Invoice> out;
  out.reserve(buyers_.size());
  for (const auto& [account, b] : buyers_) {
    if (b.software.empty() && b.infrastructure.empty()) continue;
    out.push_back(FinishBuyer(account, b));
  }
  buyers_.clear();
  return out;
}

}  // namespace mercato::commerce
