// Billing: a hand-computed month, idempotent close, refunds into the next disbursement,
// price changes with notice, and bad input that changes nothing. Every figure is an exact
// integer of micro-USD worked out in the comments.
#include "commerce/billing_service.h"

#include <map>
#include <memory>

#include "absl/time/civil_time.h"
#include "base/errors.h"
#include "commerce/billing_closer.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::commerce {
namespace {

constexpr char kSeller[] = "900000000000";
constexpr char kA[] = "100000000001";
constexpr char kB[] = "100000000002";
constexpr char kC[] = "100000000003";  // the seller's test account
constexpr char kD[] = "100000000004";  // runs only its own images
constexpr char kHourly[] = "prod-hourly";
constexpr char kPerInf[] = "prod-perinf";
constexpr int64_t kS = 1'000'000;  // micros per second

int64_t At(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::ToUnixMicros(
      absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone()));
}

std::string Code(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

class BillingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    products_[kHourly] = {
        kHourly,
        "code-h",
        "Hourly model",
        kSeller,
        {kC},
        Offer({{"Endpoint", {{"ml.m5.large", 333333}}}, {"Transform", {{"ml.m5.large", 200000}}}})};
    products_[kPerInf] = {kPerInf, "code-i", "Per inference",
                          kSeller, {},       Offer({{"PerInference", 1000}})};
    prices_ = std::make_unique<PriceList>(*store_, clock_, sandbox::InstanceTypes::Default());
    taxes_ = std::make_unique<TaxTable>(*store_, clock_);
    PriceChanges::Options po;
    po.product = [this](std::string_view id) -> absl::StatusOr<BillingProduct> {
      auto it = products_.find(std::string(id));
      if (it == products_.end()) return absl::NotFoundError("no product");
      return it->second;
    };
    po.notify = [this](std::string_view account, std::string_view type, std::string_view,
                       std::string_view, const Json& data) {
      notes_.push_back({std::string(account), std::string(type), data});
    };
    changes_ = std::make_unique<PriceChanges>(*store_, clock_, po);
    BillingOptions bo;
    bo.product = po.product;
    bo.payout_view = [](std::string_view) -> absl::StatusOr<Json> {
      return Json{{"BankAccount", "****6789"}, {"BankRouting", "****0021"}};
    };
    billing_ = std::make_unique<BillingService>(*store_, clock_, *prices_, *taxes_, *changes_, bo);
  }

  static Json Offer(Json pricing_micros) {
    return Json{{"Pricing", "..."}, {"PricingMicros", pricing_micros}, {"FreeTrialDays", 0}};
  }

  void Subscribe(const std::string& id, const std::string& account, const std::string& product,
                 int64_t trial_start = 0, int64_t trial_end = 0) {
    ASSERT_TRUE(
        store_
            ->Exec("INSERT INTO subscriptions (id, account_id, product_id, product_code,"
                   " title, seller_account, status, offer, eula_hash, ref_tag,"
                   " trial_start, trial_end, created_at, cancelled_at, grace_ends_at,"
                   " expired_at, reminder_sent, expiry_notified, use_stopped,"
                   " stop_attempts) VALUES (?, ?, ?, '', '', ?, 'Active', ?, '', '',"
                   " ?, ?, ?, 0, 0, 0, 0, 0, 0, 0)",
                   {id, account, product, std::string(kSeller), products_[product].offer.dump(),
                    trial_start, trial_end, At(2026, 9, 1)})
            .ok());
  }

  void Use(const std::string& buyer, const std::string& sub, const std::string& product,
           const std::string& arn, const std::string& use, const std::string& type, int64_t hour,
           int64_t quantity) {
    ASSERT_TRUE(store_
                    ->Exec("INSERT INTO usage_records (buyer_account, subscription_id, product_id,"
                           " seller_account, resource_arn, use, instance_type, hour, quantity,"
                           " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                           {buyer, sub, product, product.empty() ? "" : std::string(kSeller), arn,
                            use, type, hour, quantity})
                    .ok());
  }

  int64_t Count(const char* table) {
    return (*store_->Query(std::string("SELECT COUNT(*) FROM ") + table))[0].Int(0);
  }
  std::vector<int64_t> Counts() {
    return {Count("invoices"),        Count("invoice_lines"),         Count("disbursements"),
            Count("billing_periods"), Count("infrastructure_prices"), Count("tax_rates"),
            Count("listing_fees"),    Count("billing_addresses"),     Count("refund_settlements")};
  }

  // The October scenario of the acceptance test, by hand.
  void OctoberScenario() {
    ASSERT_TRUE(prices_
                    ->SetInfrastructure({{"Endpoint", {{"ml.m5.large", "0.115"}}},
                                         {"Transform", {{"ml.m5.large", "0.10"}}}})
                    .ok());
    ASSERT_TRUE(taxes_->SetRates({{"US", {{"WA", "0.065"}}}}).ok());
    ASSERT_TRUE(taxes_->SetAddress(kA, {{"Country", "us"}, {"State", "wa"}}).ok());
    ASSERT_TRUE(prices_->SetListingFee(kPerInf, {{"Percent", "15"}}).ok());
    Subscribe("sub-a1", kA, kHourly);
    Subscribe("sub-a2", kA, kPerInf);
    Subscribe("sub-b1", kB, kHourly, At(2026, 10, 5), At(2026, 10, 12));
    Subscribe("sub-c1", kC, kHourly);
    const std::string ep = "arn:ep/x", tj = "arn:transform-job/t";
    // A: endpoint 2 h 30 min (+0.7 s that the whole-second floor drops), a 10-minute
    // transform, 100 inferences.
    Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 3, 10), 3600 * kS);
    Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 3, 11), 3600 * kS);
    Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 3, 12),
        1800 * kS + 700'000);
    Use(kA, "sub-a1", kHourly, tj, "Transform", "ml.m5.large", At(2026, 10, 4, 9), 600 * kS);
    Use(kA, "sub-a2", kPerInf, "arn:ep/i", "Inference", "", At(2026, 10, 4, 9), 60);
    Use(kA, "sub-a2", kPerInf, "arn:ep/i", "Inference", "", At(2026, 10, 4, 10), 40);
    // B: one hour inside the trial, one after it.
    Use(kB, "sub-b1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 6, 10), 3600 * kS);
    Use(kB, "sub-b1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 13, 10), 3600 * kS);
    // C: a test account; D: its own image (no product).
    Use(kC, "sub-c1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 7, 0), 1800 * kS);
    Use(kD, "", "", "arn:ep/own", "Endpoint", "ml.m5.large", At(2026, 10, 8, 0), 3600 * kS);
    // November usage must not leak into October.
    Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 11, 1, 0), 3600 * kS);
  }

  Invoice InvoiceOf(const std::string& buyer, const std::string& month) {
    auto bills = billing_->Bills(buyer, month);
    EXPECT_TRUE(bills.ok());
    for (const Invoice& i : *bills) {
      if (i.kind == "Invoice") return *billing_->Bill(buyer, i.id, false);
    }
    ADD_FAILURE() << "no invoice for " << buyer;
    return {};
  }

  static void ExpectLine(const InvoiceLine& l, const std::string& kind, const std::string& use,
                         const std::string& pricing, int64_t qty, int64_t unit_price,
                         int64_t amount) {
    EXPECT_EQ(l.kind, kind);
    EXPECT_EQ(l.use, use);
    EXPECT_EQ(l.pricing, pricing);
    EXPECT_EQ(l.quantity, qty) << kind << " " << use << " " << pricing;
    EXPECT_EQ(l.unit_price, unit_price);
    EXPECT_EQ(l.amount, amount) << kind << " " << use << " " << pricing;
  }

  ManualClock clock_{absl::FromUnixMicros(At(2026, 11, 2))};
  MetadataStorePtr store_;
  std::map<std::string, BillingProduct> products_;
  struct Note {
    std::string account, type;
    Json data;
  };
  std::vector<Note> notes_;
  std::unique_ptr<PriceList> prices_;
  std::unique_ptr<TaxTable> taxes_;
  std::unique_ptr<PriceChanges> changes_;
  std::unique_ptr<BillingService> billing_;
};

TEST_F(BillingTest, HandComputedMonth) {
  OctoberScenario();
  auto closed = billing_->CloseMonth("2026-10");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_FALSE((*closed)["AlreadyClosed"].get<bool>());
  EXPECT_EQ((*closed)["Invoices"], 4);

  Invoice a = InvoiceOf(kA, "2026-10");
  ASSERT_EQ(a.lines.size(), 5u);
  // Software lines sorted by (product, subscription, use, type, pricing, price).
  // Endpoint: floor(9000.7 s) = 9000 s × 0.333333/h = 2999997000/3600 = 833332.5 → 833333.
  ExpectLine(a.lines[0], "Software", "Endpoint", "Paid", 9000, 333333, 833333);
  // Transform: 600 s × 0.20/h = 33333.33 → 33333.
  ExpectLine(a.lines[1], "Software", "Transform", "Paid", 600, 200000, 33333);
  // 100 inferences × 0.001.
  ExpectLine(a.lines[2], "Software", "Inference", "Paid", 100, 1000, 100000);
  EXPECT_EQ(a.lines[2].unit, "Inferences");
  // Infrastructure: 9000 s × 0.115/h = 287500; 600 s × 0.10/h = 16666.67 → 16667.
  ExpectLine(a.lines[3], "Infrastructure", "Endpoint", "Paid", 9000, 115000, 287500);
  ExpectLine(a.lines[4], "Infrastructure", "Transform", "Paid", 600, 100000, 16667);
  EXPECT_EQ(a.software_subtotal, 966666);
  EXPECT_EQ(a.infrastructure_subtotal, 304167);
  // (1270833 × 65000 + 500000) / 10^6 = 82604.645 → 82604.
  EXPECT_EQ(a.tax_rate_ppm, 65000);
  EXPECT_EQ(a.tax_state, "WA");
  EXPECT_EQ(a.tax, 82604);
  EXPECT_EQ(a.total, 1353437);

  Invoice b = InvoiceOf(kB, "2026-10");
  ASSERT_EQ(b.lines.size(), 3u);
  ExpectLine(b.lines[0], "Software", "Endpoint", "FreeTrial", 3600, 333333, 0);
  ExpectLine(b.lines[1], "Software", "Endpoint", "Paid", 3600, 333333, 333333);
  ExpectLine(b.lines[2], "Infrastructure", "Endpoint", "Paid", 7200, 115000, 230000);
  EXPECT_EQ(b.tax, 0);  // no address, no tax
  EXPECT_EQ(b.total, 563333);

  Invoice c = InvoiceOf(kC, "2026-10");
  ASSERT_EQ(c.lines.size(), 2u);
  ExpectLine(c.lines[0], "Software", "Endpoint", "TestAccount", 1800, 333333, 0);
  ExpectLine(c.lines[1], "Infrastructure", "Endpoint", "Paid", 1800, 115000, 57500);
  EXPECT_EQ(c.total, 57500);

  Invoice d = InvoiceOf(kD, "2026-10");
  ASSERT_EQ(d.lines.size(), 1u);
  ExpectLine(d.lines[0], "Infrastructure", "Endpoint", "Paid", 3600, 115000, 115000);

  auto ds = billing_->Disbursements(kSeller);
  ASSERT_TRUE(ds.ok());
  ASSERT_EQ(ds->size(), 1u);
  const Disbursement& x = (*ds)[0];
  // Revenue 966666 + 333333 = 1299999. Fee: hourly 1199999 × 20 % + per-inference 100000 ×
  // 15 % = 254999.8 → 255000 (one rounding per seller-month).
  EXPECT_EQ(x.software_revenue, 1299999);
  EXPECT_EQ(x.listing_fee, 255000);
  EXPECT_EQ(x.refunds, 0);
  // Tax on the seller's lines: (966666 × 65000 + 500000) / 10^6 = 62833.29 → 62833 on
  // A's invoice; B pays none.
  EXPECT_EQ(x.tax_collected, 62833);
  EXPECT_EQ(x.amount, 1044999);
  auto json = billing_->DisbursementsJson(kSeller);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["PayoutAccount"]["BankAccount"], "****6789");
  EXPECT_EQ((*json)["Disbursements"][0]["Amount"], "1.044999");
}

TEST_F(BillingTest, CloseIsIdempotentAndAutomatic) {
  OctoberScenario();
  BillingCloser closer(*billing_, *changes_, clock_, BillingCloser::Options{});
  EXPECT_EQ(closer.RunOnce(), 1);  // October ended more than 10 minutes ago
  std::vector<int64_t> after_first = Counts();
  auto again = billing_->CloseMonth("2026-10");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)["AlreadyClosed"].get<bool>());
  EXPECT_EQ(Counts(), after_first);
  EXPECT_EQ(closer.RunOnce(), 0);
  // November has not ended: refused, nothing written.
  auto early = billing_->CloseMonth("2026-11");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code(early.status()), "MonthNotEnded");
  EXPECT_EQ(Counts(), after_first);
  // The background thread closes November once it is over (and the delay has passed).
  clock_.Set(absl::FromUnixMicros(At(2026, 12, 1, 0, 11)));
  closer.Start();
  closer.Wake();
  for (int i = 0; i < 500 && Count("billing_periods") < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  closer.Stop();
  EXPECT_EQ(Count("billing_periods"), 2);
  EXPECT_EQ(InvoiceOf(kA, "2026-11").software_subtotal, 333333);
}

TEST_F(BillingTest, RefundBecomesAdjustmentAndNextDisbursementSubtractsIt) {
  OctoberScenario();
  ASSERT_TRUE(billing_->CloseMonth("2026-10").ok());
  Invoice a = InvoiceOf(kA, "2026-10");
  std::vector<int64_t> before = Counts();
  // Bad refunds change nothing.
  for (Json bad :
       {Json{{"InvoiceId", "inv-nope"}, {"Amount", "1"}, {"Reason", "x"}},
        Json{{"InvoiceId", a.id}, {"Amount", "0"}, {"Reason", "x"}},
        Json{{"InvoiceId", a.id}, {"Amount", "-1"}, {"Reason", "x"}},
        Json{{"InvoiceId", a.id}, {"Amount", 1}, {"Reason", "x"}},
        Json{{"InvoiceId", a.id}, {"Amount", "0.10"}},
        Json{{"InvoiceId", a.id}, {"Amount", "9.00"}, {"Reason", "x"}, {"ProductId", kHourly}},
        Json{{"InvoiceId", a.id},
             {"Amount", "0.10"},
             {"Reason", "x"},
             {"ProductId", "prod-other"}}}) {
    EXPECT_FALSE(billing_->Refund(bad).ok()) << bad.dump();
  }
  EXPECT_EQ(Counts(), before);
  clock_.Set(absl::FromUnixMicros(At(2026, 11, 10)));
  auto adj = billing_->Refund(
      {{"InvoiceId", a.id}, {"Amount", "0.10"}, {"Reason", "outage"}, {"ProductId", kHourly}});
  ASSERT_TRUE(adj.ok()) << adj.status();
  EXPECT_EQ(adj->kind, "Adjustment");
  EXPECT_EQ(adj->refers_to, a.id);
  EXPECT_EQ(adj->month, "2026-11");
  EXPECT_EQ(adj->software_subtotal, -100000);
  EXPECT_EQ(adj->tax, -6500);  // 100000 × 6.5 %
  EXPECT_EQ(adj->total, -106500);
  // The invoice itself never changes.
  Invoice again = InvoiceOf(kA, "2026-10");
  EXPECT_EQ(again.total, a.total);
  EXPECT_EQ(again.lines.size(), a.lines.size());
  // At most what is left: 866666 paid for the hourly product, 100000 refunded.
  auto too_much = billing_->Refund(
      {{"InvoiceId", a.id}, {"Amount", "0.766667"}, {"Reason", "x"}, {"ProductId", kHourly}});
  EXPECT_EQ(Code(too_much.status()), "RefundExceedsCharges");
  // An infrastructure credit: no seller involvement.
  EXPECT_EQ(
      Code(billing_->Refund({{"InvoiceId", a.id}, {"Amount", "0.5"}, {"Reason", "c"}}).status()),
      "RefundExceedsCharges");  // infrastructure was 0.304167
  auto credit = billing_->Refund({{"InvoiceId", a.id}, {"Amount", "0.30"}, {"Reason", "credit"}});
  ASSERT_TRUE(credit.ok()) << credit.status();
  EXPECT_EQ(credit->infrastructure_subtotal, -300000);
  EXPECT_EQ(credit->software_subtotal, 0);
  EXPECT_EQ(credit->tax, -19500);
  // November: A used the hourly endpoint one hour (333333). Fee (333333 × 20 %) =
  // 66666.6 → 66667; refunds 100000.
  clock_.Set(absl::FromUnixMicros(At(2026, 12, 2)));
  ASSERT_TRUE(billing_->CloseMonth("2026-11").ok());
  auto ds = billing_->Disbursements(kSeller);
  ASSERT_EQ(ds->size(), 2u);
  const Disbursement& nov = (*ds)[1];
  EXPECT_EQ(nov.month, "2026-11");
  EXPECT_EQ(nov.software_revenue, 333333);
  EXPECT_EQ(nov.listing_fee, 66667);
  EXPECT_EQ(nov.refunds, 100000);
  EXPECT_EQ(nov.amount, 166666);
  auto json = billing_->DisbursementsJson(kSeller);
  EXPECT_EQ((*json)["PendingRefundsMicros"], 0);
}

TEST_F(BillingTest, PriceIncreaseAfterNoticeDecreaseAtOnce) {
  clock_.Set(absl::FromUnixMicros(At(2026, 7, 1, 0, 30)));
  Subscribe("sub-a1", kA, kHourly);
  // The seller raises the endpoint price from 0.333333 to 0.50.
  products_[kHourly].offer =
      Offer({{"Endpoint", {{"ml.m5.large", 500000}}}, {"Transform", {{"ml.m5.large", 200000}}}});
  ASSERT_EQ(*changes_->OnOfferChanged(kHourly), 1);
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_EQ(notes_[0].account, kA);
  EXPECT_EQ(notes_[0].type, "offer.price_changed");
  // 90 days after 2026-07-01T00:30, rounded up to the hour.
  EXPECT_EQ(notes_[0].data["EffectiveAt"], "2026-09-29T01:00:00Z");
  EXPECT_EQ(*changes_->OnOfferChanged(kHourly), 0);  // idempotent
  EXPECT_EQ(notes_.size(), 1u);
  // The hour before and the hour from the effective date.
  const std::string ep = "arn:ep/x";
  Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 9, 29, 0), 3600 * kS);
  Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 9, 29, 1), 3600 * kS);
  clock_.Set(absl::FromUnixMicros(At(2026, 10, 1, 1)));
  ASSERT_TRUE(billing_->CloseMonth("2026-09").ok());
  Invoice sep = InvoiceOf(kA, "2026-09");
  ASSERT_EQ(sep.lines.size(), 3u);
  ExpectLine(sep.lines[0], "Software", "Endpoint", "Paid", 3600, 333333, 333333);
  ExpectLine(sep.lines[1], "Software", "Endpoint", "Paid", 3600, 500000, 500000);

  // A decrease (transform 0.20 → 0.10) applies from the current hour.
  clock_.Set(absl::FromUnixMicros(At(2026, 10, 5, 10, 45)));
  products_[kHourly].offer =
      Offer({{"Endpoint", {{"ml.m5.large", 500000}}}, {"Transform", {{"ml.m5.large", 100000}}}});
  ASSERT_EQ(*changes_->OnOfferChanged(kHourly), 1);
  EXPECT_EQ(notes_.back().data["EffectiveAt"], "2026-10-05T10:00:00Z");
  Use(kA, "sub-a1", kHourly, "arn:tj", "Transform", "ml.m5.large", At(2026, 10, 5, 10), 3600 * kS);
  // Mixed: endpoint up again, transform down: the decrease now, the increase after notice.
  clock_.Set(absl::FromUnixMicros(At(2026, 10, 6)));
  products_[kHourly].offer =
      Offer({{"Endpoint", {{"ml.m5.large", 600000}}}, {"Transform", {{"ml.m5.large", 50000}}}});
  ASSERT_EQ(*changes_->OnOfferChanged(kHourly), 1);
  EXPECT_EQ(notes_.back().data["EffectiveAt"], "2027-01-04T00:00:00Z");
  Use(kA, "sub-a1", kHourly, ep, "Endpoint", "ml.m5.large", At(2026, 10, 6, 1), 3600 * kS);
  Use(kA, "sub-a1", kHourly, "arn:tj", "Transform", "ml.m5.large", At(2026, 10, 6, 1), 3600 * kS);
  clock_.Set(absl::FromUnixMicros(At(2026, 11, 1, 1)));
  ASSERT_TRUE(billing_->CloseMonth("2026-10").ok());
  Invoice oct = InvoiceOf(kA, "2026-10");
  ASSERT_EQ(oct.lines.size(), 5u);
  ExpectLine(oct.lines[0], "Software", "Endpoint", "Paid", 3600, 500000, 500000);
  ExpectLine(oct.lines[1], "Software", "Transform", "Paid", 3600, 50000, 50000);
  ExpectLine(oct.lines[2], "Software", "Transform", "Paid", 3600, 100000, 100000);
}

TEST_F(BillingTest, BadInputChangesNothing) {
  std::vector<int64_t> before = Counts();
  for (Json bad :
       {Json{{"Endpoint", {{"ml.m5.large", "-1"}}}}, Json{{"Endpoint", {{"ml.m5.large", "abc"}}}},
        Json{{"Endpoint", {{"ml.m5.large", 0.5}}}}, Json{{"Endpoint", {{"ml.zz.large", "1"}}}},
        Json{{"Inference", {{"ml.m5.large", "1"}}}},
        Json{{"Endpoint", {{"ml.m5.large", "1"}}}, {"Transform", {{"bad", "1"}}}}, Json::array(),
        Json::object()}) {
    auto r = prices_->SetInfrastructure(bad);
    EXPECT_EQ(Code(r.status()), "ValidationError") << bad.dump();
  }
  for (Json bad : {Json{{"US", {{"WA", "1.5"}}}}, Json{{"US", {{"WA", "-0.1"}}}},
                   Json{{"usa", {{"WA", "0.1"}}}}, Json{{"US", "0.1"}}}) {
    EXPECT_FALSE(taxes_->SetRates(bad).ok()) << bad.dump();
  }
  for (Json bad : {Json{{"Percent", "101"}}, Json{{"Percent", "-1"}}, Json{{"Percent", 15}},
                   Json{{"Percent", "1.23456"}}, Json::object()}) {
    EXPECT_FALSE(prices_->SetListingFee(kHourly, bad).ok()) << bad.dump();
  }
  for (Json bad : {Json{{"Country", "US"}}, Json{{"Country", "USA"}, {"State", "WA"}},
                   Json{{"State", "WA"}}, Json{{"Country", "US"}, {"State", "WA"}, {"X", 1}}}) {
    EXPECT_FALSE(taxes_->SetAddress(kA, bad).ok()) << bad.dump();
  }
  for (const char* m : {"2026-13", "26-10", "2026-1", "abcd-ef", ""}) {
    EXPECT_EQ(Code(billing_->CloseMonth(m).status()), "InvalidMonth") << m;
  }
  EXPECT_EQ(Code(billing_->CloseMonth("2026-11").status()), "MonthNotEnded");
  EXPECT_EQ(Code(billing_->CloseMonth("2027-01").status()), "MonthNotEnded");
  EXPECT_EQ(Counts(), before);
}

TEST_F(BillingTest, AmountsAndFormats) {
  EXPECT_EQ(LineAmount(9000, 333333, kUnitSeconds), 833333);
  EXPECT_EQ(LineAmount(1, 1800, kUnitSeconds), 1);  // 0.5 → 1, half-up
  EXPECT_EQ(LineAmount(1, 1799, kUnitSeconds), 0);
  EXPECT_EQ(LineAmount(3, 7, kUnitInferences), 21);
  // A large month cannot overflow: 10^4 instances × 31 days × 1000 USD/h.
  EXPECT_EQ(LineAmount(int64_t{10'000} * 31 * 86400, 1'000'000'000, kUnitSeconds),
            int64_t{10'000} * 31 * 24 * 1'000'000'000);
  EXPECT_EQ(ApplyPpm(1270833, 65000), 82604);
  EXPECT_EQ(*ParseRatePpm(Json("0.065"), "r"), 65000);
  EXPECT_EQ(*ParsePercentPpm(Json("12.5"), "p"), 125000);
  EXPECT_EQ(ParseMonth("2026-12")->end, At(2027, 1, 1));
  EXPECT_EQ(MonthOf(At(2026, 2, 28, 23)).month, "2026-02");
  Invoice inv;
  inv.total = -106500;
  EXPECT_EQ(InvoiceJson(inv)["Total"], "-0.106500");
}

}  // namespace
}  // namespace mercato::commerce
