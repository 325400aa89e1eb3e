#include "commerce/report_service.h"

#include <map>

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/errors.h"
#include "commerce/dataset_publisher.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::commerce {
namespace {

constexpr char kSeller[] = "111111111111";
constexpr char kOther[] = "222222222222";
constexpr char kA[] = "333333333333";
constexpr char kB[] = "444444444444";
constexpr char kC[] = "555555555555";  // the seller's test account
constexpr char kD[] = "666666666666";
constexpr int64_t kH = 3600LL * 1000000;

int64_t At(int y, int mo, int d, int h = 0) {
  return absl::ToUnixMicros(absl::FromCivil(absl::CivilHour(y, mo, d, h), absl::UTCTimeZone()));
}
const int64_t kT0 = At(2026, 11, 3);  // the reported day, a Tuesday

class ReportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    key_ = DeriveCustomerKey(std::string(32, 'm'));
    service_ = std::make_unique<ReportService>(*store_, ReportOptions{.customer_key = key_});
    Product("prod-a", "codea", "Model A", kSeller, "[\"555555555555\"]");
    Product("prod-b", "codeb", "Model, B", kSeller, "[]");
    Product("prod-o", "codeo", "Other's", kOther, "[]");
    Exec("INSERT INTO billing_addresses VALUES (?, 'US', 'WA', 0)", {std::string(kA)});
  }

  void Exec(std::string_view sql, const SqlParams& params = {}) {
    auto r = store_->Exec(sql, params);
    ASSERT_TRUE(r.ok()) << r.status() << " in " << sql;
  }

  void Product(const std::string& id, const std::string& code, const std::string& title,
               const std::string& seller, const std::string& test_accounts) {
    Exec(
        "INSERT INTO products VALUES (?, ?, ?, ?, '', '', '', '', '[]', '[]', '', '', '', '', "
        "'', '{}', '[]', 'Public', 'model-package', '{}', 0, 0, '[]', ?, 0, 0, 0, 0, 0, 0)",
        {id, code, seller, title, test_accounts});
  }

  void Subscription(const std::string& id, const std::string& account, const std::string& product,
                    const std::string& seller, int64_t created, int64_t trial_end,
                    int64_t cancelled, const std::string& offer, const std::string& ref = "") {
    Exec(
        "INSERT INTO subscriptions VALUES (?, ?, ?, '', '', ?, ?, ?, '', ?, ?, ?, ?, ?, 0, 0, 0, "
        "0, 0, 0)",
        {id, account, product, seller, cancelled ? "Cancelled" : "Active", offer, ref,
         trial_end ? created : int64_t{0}, trial_end, created, cancelled});
  }

  void Usage(const std::string& buyer, const std::string& sub, const std::string& product,
             const std::string& seller, const std::string& use, const std::string& type,
             int64_t hour, int64_t quantity) {
    Exec("INSERT INTO usage_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
         {buyer, sub, product, seller, "arn:aws:sagemaker:local:" + buyer + ":endpoint/e", use,
          type, hour, quantity});
  }

  void Invoice(const std::string& id, const std::string& buyer, const std::string& kind,
               const std::string& country, const std::string& state, int64_t rate) {
    Exec("INSERT INTO invoices VALUES (?, ?, '2026-11', ?, '', '', ?, 0, 0, 0, 0, ?, ?, ?)",
         {id, buyer, kind, At(2026, 12, 1, 1), country, state, rate});
  }

  void Line(const std::string& invoice, int64_t no, const std::string& kind,
            const std::string& product, const std::string& seller, const std::string& use,
            const std::string& pricing, int64_t quantity, int64_t amount) {
    Exec("INSERT INTO invoice_lines VALUES (?, ?, ?, ?, ?, 'sub', ?, ?, ?, ?, ?, 0, ?)",
         {invoice, no, kind, product, seller, use, use == "Inference" ? "" : "ml.m5.large", pricing,
          quantity, use == "Inference" ? "Inferences" : "Seconds", amount});
  }

  DataSet Gen(const std::string& type, const std::string& date, const std::string& month = "",
              const std::string& seller = kSeller) {
    auto d = service_->Generate(seller, {.type = type, .date = date, .month = month});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : DataSet{};
  }

  std::string Ref(const std::string& account) { return CustomerReferenceId(key_, account); }

  MetadataStorePtr store_;
  std::string key_;
  std::unique_ptr<ReportService> service_;
};

constexpr char kPaidOffer[] =
    R"({"Pricing":{},"PricingMicros":{"Endpoint":{"ml.m5.large":500000},)"
    R"("Transform":{"ml.m5.large":1200000},"PerInference":1000},"FreeTrialDays":0})";

TEST_F(ReportServiceTest, UsageByInstanceTypeExactCsv) {
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + kH, 3600LL * 1000000);
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + 2 * kH, 1800LL * 1000000);
  Usage(kA, "sub-a", "prod-a", kSeller, "Transform", "ml.m5.large", kT0 + 3 * kH, 600LL * 1000000);
  Usage(kD, "sub-d", "prod-b", kSeller, "Inference", "", kT0 + 5 * kH, 100);
  Usage(kD, "sub-d", "prod-b", kSeller, "Inference", "", kT0 + 6 * kH, 23);
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 - kH, 3600LL * 1000000);
  Usage(kA, "sub-o", "prod-o", kOther, "Endpoint", "ml.m5.large", kT0 + kH, 3600LL * 1000000);
  // A row naming this seller for a product the seller does not own is not theirs to see.
  Usage(kB, "sub-x", "prod-o", kSeller, "Endpoint", "ml.m5.large", kT0 + kH, 1000000);
  DataSet d = Gen("daily_business_usage_by_instance_type", "2026-11-03");
  EXPECT_EQ(DataSetCsv(d),
            "Customer Reference ID,User's State,User's Country,Product Title,Product Code,Use,"
            "Instance Type,Usage Units,Usage Unit Type\n" +
                Ref(kA) + ",WA,US,Model A,codea,Endpoint,ml.m5.large,1.500000,Hrs\n" + Ref(kA) +
                ",WA,US,Model A,codea,Transform,ml.m5.large,0.166667,Hrs\n" + Ref(kD) +
                ",,,\"Model, B\",codeb,Inference,,123,Inferences\n");
  EXPECT_EQ(d.period, "2026-11-03");
  // No account id anywhere in the output.
  std::string csv = DataSetCsv(d);
  EXPECT_EQ(csv.find(kA), std::string::npos);
  EXPECT_EQ(csv.find(kD), std::string::npos);

  // The other seller sees only their own product.
  DataSet other = Gen("daily_business_usage_by_instance_type", "2026-11-03", "", kOther);
  ASSERT_EQ(other.rows.size(), 1u);
  EXPECT_EQ(other.rows[0][4], "codeo");
  EXPECT_EQ(other.rows[0][0], Ref(kA));  // the same buyer, the same stable reference id
}

TEST_F(ReportServiceTest, DailyFeesPriceUsageTrialsAndTestAccounts) {
  Subscription("sub-a", kA, "prod-a", kSeller, kT0 - 48 * kH, 0, 0, kPaidOffer);
  Subscription("sub-b", kB, "prod-a", kSeller, kT0 - 48 * kH, kT0 + 2 * kH, 0, kPaidOffer);
  Subscription("sub-c", kC, "prod-a", kSeller, kT0 - 48 * kH, 0, 0, kPaidOffer);
  Subscription("sub-d", kD, "prod-b", kSeller, kT0 - 48 * kH, 0, 0, kPaidOffer);
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + kH, 3600LL * 1000000);
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + 2 * kH, 1800LL * 1000000);
  Usage(kA, "sub-a", "prod-a", kSeller, "Transform", "ml.m5.large", kT0 + 3 * kH, 600LL * 1000000);
  Usage(kB, "sub-b", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + kH, 3600LL * 1000000);
  Usage(kB, "sub-b", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + 2 * kH, 3600LL * 1000000);
  Usage(kC, "sub-c", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + kH, 3600LL * 1000000);
  Usage(kD, "sub-d", "prod-b", kSeller, "Inference", "", kT0 + 5 * kH, 123);
  DataSet d = Gen("daily_business_fees", "2026-11-03");
  std::map<std::string, std::string> fee;  // ref|use|pricing → amount
  for (const auto& r : d.rows) fee[r[0] + "|" + r[5] + "|" + r[7]] = r[8];
  EXPECT_EQ(fee.size(), 6u);
  EXPECT_EQ(fee[Ref(kA) + "|Endpoint|Paid"], "0.750000");   // 5400 s at 0.50/h
  EXPECT_EQ(fee[Ref(kA) + "|Transform|Paid"], "0.200000");  // 600 s at 1.20/h
  EXPECT_EQ(fee[Ref(kB) + "|Endpoint|FreeTrial"], "0.000000");
  EXPECT_EQ(fee[Ref(kB) + "|Endpoint|Paid"], "0.500000");
  EXPECT_EQ(fee[Ref(kC) + "|Endpoint|TestAccount"], "0.000000");
  EXPECT_EQ(fee[Ref(kD) + "|Inference|Paid"], "0.123000");
  EXPECT_EQ(d.rows[0].back(), "USD");
}

TEST_F(ReportServiceTest, FreeTrialConversions) {
  // B: trial ends on the day, then paid usage → converted.
  Subscription("sub-b", kB, "prod-a", kSeller, kT0 - 7 * 24 * kH, kT0 + 2 * kH, 0, kPaidOffer);
  Usage(kB, "sub-b", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + 5 * kH, 1000000);
  // A: trial ends on the day but was cancelled before, no usage after → not converted.
  Subscription("sub-a", kA, "prod-a", kSeller, kT0 - 7 * 24 * kH, kT0 + 10 * kH, kT0 + 5 * kH,
               kPaidOffer);
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + 4 * kH, 1000000);
  // D: trial ends the next day → not in this day's data set.
  Subscription("sub-d", kD, "prod-b", kSeller, kT0 - 6 * 24 * kH, kT0 + 26 * kH, 0, kPaidOffer);
  DataSet d = Gen("daily_business_free_trial_conversions", "2026-11-03");
  ASSERT_EQ(d.rows.size(), 2u);
  std::map<std::string, std::vector<std::string>> by_ref;
  for (const auto& r : d.rows) by_ref[r[0]] = r;
  EXPECT_EQ(by_ref[Ref(kB)][5], "2026-10-27");
  EXPECT_EQ(by_ref[Ref(kB)][6], "2026-11-03");
  EXPECT_EQ(by_ref[Ref(kB)][7], "Yes");
  EXPECT_EQ(by_ref[Ref(kA)][7], "No");
}

TEST_F(ReportServiceTest, NewInstancesNewAndCanceledSubscribers) {
  const char* insert =
      "INSERT INTO endpoint_instances VALUES (?, ?, 'e', 'v', 'ml.m5.large', ?, NULL, ?, 'arn')";
  Exec(insert, {"i-1", std::string(kA), kT0 + kH, "[\"prod-a\"]"});
  Exec(insert, {"i-2", std::string(kA), kT0 + 2 * kH, "[\"prod-a\"]"});
  Exec(insert, {"i-3", std::string(kA), kT0 + 2 * kH, "[]"});
  Exec(insert, {"i-4", std::string(kA), kT0 + 2 * kH, "[\"prod-o\"]"});
  Exec(insert, {"i-5", std::string(kB), kT0 - kH, "[\"prod-a\"]"});
  Exec(
      "INSERT INTO transform_job_instances VALUES ('t-1', ?, 'j', 'ml.m5.xlarge', ?, ?, "
      "'[\"prod-b\"]', 'arn')",
      {std::string(kD), kT0 + 3 * kH, kT0 + 4 * kH});
  DataSet inst = Gen("daily_business_new_instances", "2026-11-03");
  ASSERT_EQ(inst.rows.size(), 2u);
  EXPECT_EQ(inst.rows[0], (std::vector<std::string>{Ref(kA), "WA", "US", "Model A", "codea",
                                                    "Endpoint", "ml.m5.large", "2"}));
  EXPECT_EQ(inst.rows[1][5], "Transform");
  EXPECT_EQ(inst.rows[1][7], "1");

  Subscription("sub-1", kA, "prod-a", kSeller, kT0 + kH, kT0 + 7 * 24 * kH, 0, "{}", "blog");
  Subscription("sub-2", kB, "prod-b", kSeller, kT0 - 24 * kH, 0, kT0 + 3 * kH, "{}");
  Subscription("sub-3", kB, "prod-o", kOther, kT0 + kH, 0, kT0 + 3 * kH, "{}");
  DataSet added = Gen("daily_business_new_product_subscribers", "2026-11-03");
  ASSERT_EQ(added.rows.size(), 1u);
  EXPECT_EQ(added.rows[0], (std::vector<std::string>{Ref(kA), "WA", "US", "Model A", "codea",
                                                     "2026-11-03", "blog", "2026-11-10"}));
  DataSet gone = Gen("daily_business_canceled_product_subscribers", "2026-11-03");
  ASSERT_EQ(gone.rows.size(), 1u);
  EXPECT_EQ(gone.rows[0], (std::vector<std::string>{Ref(kB), "", "", "Model, B", "codeb",
                                                    "2026-11-02", "2026-11-03"}));
  DataSet month = Gen("customer_subscriber_hourly_monthly_subscriptions", "", "2026-11");
  ASSERT_EQ(month.rows.size(), 2u);  // sub-1 and sub-2 (cancelled in the month)
  EXPECT_EQ(month.rows[0][4], "codea");
  EXPECT_EQ(month.rows[1][6], "2026-11-03");
  EXPECT_TRUE(Gen("customer_subscriber_hourly_monthly_subscriptions", "", "2026-12").rows.size() ==
              1u);  // only the still-active sub-1
}

TEST_F(ReportServiceTest, RefTagsDailyAndWeekly) {
  const char* visit = "INSERT INTO product_visits VALUES (?, ?, ?, ?, ?)";
  Exec(visit, {"v1", "prod-a", "blog", std::string(kA), kT0 + kH});
  Exec(visit, {"v2", "prod-a", "blog", std::string(kA), kT0 + 2 * kH});
  Exec(visit, {"v3", "prod-a", "blog", std::string(kB), kT0 + 3 * kH});
  Exec(visit, {"v4", "prod-a", "", std::string(kB), kT0 + 3 * kH});
  Exec(visit, {"v5", "prod-o", "blog", std::string(kB), kT0 + 3 * kH});
  Exec(visit, {"v6", "prod-b", "news", std::string(kD), kT0 + 48 * kH});  // Thursday
  Subscription("sub-1", kA, "prod-a", kSeller, kT0 + 4 * kH, 0, 0, "{}", "blog");
  DataSet d = Gen("daily_business_ref_tags", "2026-11-03");
  EXPECT_EQ(DataSetCsv(d),
            "Product Title,Product Code,Ref Tag,Visits,Unique Visitors,New Subscriptions\n"
            "Model A,codea,blog,3,2,1\n");
  DataSet w = Gen("weekly_business_ref_tags", "2026-11-08");
  EXPECT_EQ(w.period, "2026-11-02..2026-11-08");
  ASSERT_EQ(w.rows.size(), 2u);
  EXPECT_EQ(w.rows[1], (std::vector<std::string>{"Model, B", "codeb", "news", "1", "1", "0"}));
}

class BilledMonthTest : public ReportServiceTest {
 protected:
  void SetUp() override {
    ReportServiceTest::SetUp();
    Invoice("inv-1", kA, "Invoice", "US", "WA", 100000);
    Line("inv-1", 1, "Software", "prod-a", kSeller, "Endpoint", "Paid", 5400, 750000);
    Line("inv-1", 2, "Software", "prod-a", kSeller, "Transform", "Paid", 600, 700000);
    Line("inv-1", 3, "Infrastructure", "prod-a", kSeller, "Endpoint", "Paid", 5400, 99999);
    Line("inv-1", 4, "Software", "prod-o", kOther, "Endpoint", "Paid", 3600, 500000);
    Invoice("inv-2", kD, "Invoice", "DE", "", 0);
    Line("inv-2", 1, "Software", "prod-b", kSeller, "Inference", "Paid", 1234, 1234000);
    Invoice("adj-1", kA, "Adjustment", "US", "WA", 100000);
    Line("adj-1", 1, "Software", "prod-a", kSeller, "Transform", "Paid", 0, -200000);
    Exec("INSERT INTO disbursements VALUES ('dsb-1', ?, '2026-11', 0, 0, 0, 0, 0, ?)",
         {std::string(kSeller), At(2026, 12, 1, 2)});
    Exec("INSERT INTO refund_settlements VALUES ('adj-1', ?, 'prod-a', 200000, 0, 'dsb-1')",
         {std::string(kSeller)});
    // Settled in an earlier disbursement: not this one's.
    Exec("INSERT INTO refund_settlements VALUES ('adj-0', ?, 'prod-a', 7, 0, 'dsb-0')",
         {std::string(kSeller)});
  }
};

TEST_F(BilledMonthTest, RevenueAndTaxRecords) {
  DataSet rev = Gen("monthly_revenue_billing_and_revenue_data", "", "2026-11");
  EXPECT_EQ(DataSetCsv(rev),
            "Transaction Reference ID,Document Type,Customer Reference ID,User's State,"
            "User's Country,Product Title,Product Code,Customer Billed Amount,AWS Listing Fee,"
            "Partner Revenue,Currency\n"
            "adj-1,Adjustment," +
                Ref(kA) + ",WA,US,Model A,codea,-0.200000,-0.040000,-0.160000,USD\n" +
                "inv-1,Invoice," + Ref(kA) +
                ",WA,US,Model A,codea,1.450000,0.290000,1.160000,USD\n" + "inv-2,Invoice," +
                Ref(kD) + ",,DE,\"Model, B\",codeb,1.234000,0.246800,0.987200,USD\n");
  DataSet tax = Gen("us_sales_and_use_tax_records", "", "2026-11");
  ASSERT_EQ(tax.rows.size(), 2u);  // DE is not a US record
  EXPECT_EQ(tax.rows[1],
            (std::vector<std::string>{"inv-1", "Invoice", Ref(kA), "US", "WA", "Model A", "codea",
                                      "1.450000", "0.100000", "0.145000", "USD"}));
  // The other seller's revenue holds only their own line.
  DataSet other = Gen("monthly_revenue_billing_and_revenue_data", "", "2026-11", kOther);
  ASSERT_EQ(other.rows.size(), 1u);
  EXPECT_EQ(other.rows[0][7], "0.500000");
}

TEST_F(BilledMonthTest, Disbursements) {
  DataSet product = Gen("disbursed_amount_by_product", "", "2026-11");
  EXPECT_EQ(DataSetCsv(product),
            "Disbursement ID,Disbursement Date,Product Title,Product Code,Gross Revenue,Refunds,"
            "Listing Fee,Disbursed Amount,Currency\n"
            "dsb-1,2026-12-01,Model A,codea,1.450000,0.200000,0.290000,0.960000,USD\n"
            "dsb-1,2026-12-01,\"Model, B\",codeb,1.234000,0.000000,0.246800,0.987200,USD\n");
  // A day finds the latest disbursement of the 31 days up to it.
  DataSet by_day = Gen("disbursed_amount_by_product", "2026-12-20");
  EXPECT_EQ(by_day.period, "2026-11");
  EXPECT_EQ(by_day.rows, product.rows);
  EXPECT_TRUE(Gen("disbursed_amount_by_product", "2026-11-30").rows.empty());
  EXPECT_TRUE(Gen("disbursed_amount_by_product", "", "2026-10").rows.empty());

  DataSet geo = Gen("disbursed_amount_by_customer_geo", "", "2026-11");
  ASSERT_EQ(geo.rows.size(), 2u);
  EXPECT_EQ(geo.rows[0][4], "US");
  EXPECT_EQ(geo.rows[0][5], "WA");
  EXPECT_EQ(geo.rows[1][4], "DE");

  DataSet hours = Gen("disbursed_amount_by_instance_hours", "", "2026-11");
  ASSERT_EQ(hours.rows.size(), 2u);  // Endpoint and Transform of prod-a; inferences excluded
  EXPECT_EQ(hours.rows[0],
            (std::vector<std::string>{"dsb-1", "2026-12-01", "Model A", "codea", "Endpoint",
                                      "ml.m5.large", "Paid", "1.500000", "0.750000", "0.000000",
                                      "0.150000", "0.600000", "USD"}));
  EXPECT_EQ(hours.rows[1][7], "0.166667");
  EXPECT_EQ(hours.rows[1][9], "0.200000");  // the refund

  // The operator's per-product listing fee override.
  Exec("INSERT INTO listing_fees VALUES ('prod-b', 100000, 0)");
  DataSet overridden = Gen("disbursed_amount_by_product", "", "2026-11");
  EXPECT_EQ(overridden.rows[1][6], "0.123400");
}

TEST_F(ReportServiceTest, BadRequestsAreClearErrors) {
  auto unknown =
      service_->Generate(kSeller, {.type = "customer_profile_by_industry", .date = "2026-11-03"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AwsCodeOf(unknown.status()), "UnknownDataSetType");
  for (ReportRequest r : std::vector<ReportRequest>{
           {"daily_business_fees", "", ""},
           {"daily_business_fees", "", "2026-11"},
           {"daily_business_fees", "2026-11-31", ""},
           {"monthly_revenue_billing_and_revenue_data", "", ""},
           {"monthly_revenue_billing_and_revenue_data", "", "2026-13"},
           {"monthly_revenue_billing_and_revenue_data", "2026-11-01", "2026-11"}}) {
    auto d = service_->Generate(kSeller, r);
    ASSERT_FALSE(d.ok()) << r.type << " " << r.date << " " << r.month;
    EXPECT_EQ(AwsCodeOf(d.status()), "InvalidDate");
  }
}

// -- GenerateDataSet --

class PublisherTest : public ReportServiceTest {
 protected:
  void SetUp() override {
    ReportServiceTest::SetUp();
    PublisherOptions o;
    o.check_bucket = [](std::string_view account, std::string_view bucket) {
      if (bucket == "seller-bucket" && account == kSeller) return absl::OkStatus();
      return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied", "Access Denied");
    };
    o.put_object = [this](std::string_view account, std::string_view bucket, std::string_view key,
                          std::string_view type, std::string_view data) {
      objects_[std::string(bucket) + "/" + std::string(key)] = std::string(data);
      return absl::OkStatus();
    };
    o.notify = [this](std::string_view account, std::string_view type, std::string_view,
                      std::string_view, const Json& data) {
      notes_.push_back({{"account", account}, {"type", type}, {"data", data}});
    };
    publisher_ = std::make_unique<DataSetPublisher>(*store_, clock_, *service_, std::move(o));
  }

  ManualClock clock_{absl::FromUnixSeconds(1795000000)};
  std::unique_ptr<DataSetPublisher> publisher_;
  std::map<std::string, std::string> objects_;
  std::vector<Json> notes_;
};

TEST_F(PublisherTest, WritesCsvAndMetaAndNotifies) {
  Usage(kA, "sub-a", "prod-a", kSeller, "Endpoint", "ml.m5.large", kT0 + kH, 3600LL * 1000000);
  Json in = {{"dataSetType", "daily_business_usage_by_instance_type"},
             {"dataSetPublicationDate", kT0 / 1000000 + 3600},
             {"roleNameArn", "arn:aws:iam::111111111111:role/r"},
             {"destinationS3BucketName", "seller-bucket"},
             {"destinationS3Prefix", "reports"},
             {"snsTopicArn", "arn:aws:sns:local:111111111111:reports"},
             {"customerDefinedValues", {{"k", "v"}}}};
  auto input = ParseGenerateDataSetInput(in);
  ASSERT_TRUE(input.ok()) << input.status();
  auto out = publisher_->Generate(kSeller, *input);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->request_id.size(), 36u);
  EXPECT_EQ(out->csv_key, "reports/daily_business_usage_by_instance_type_2026-11-03.csv");
  std::string csv = objects_["seller-bucket/" + out->csv_key];
  EXPECT_EQ(csv, DataSetCsv(Gen("daily_business_usage_by_instance_type", "2026-11-03")));
  EXPECT_NE(csv.find(Ref(kA)), std::string::npos);
  auto meta = ParseJson(
      objects_["seller-bucket/reports/daily_business_usage_by_instance_type_2026-11-03.meta.json"]);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)["dataSetRequestId"], out->request_id);
  EXPECT_EQ((*meta)["customerDefinedValues"]["k"], "v");
  EXPECT_EQ((*meta)["dataSetCoverageRange"]["startDateTime"], "2026-11-03T00:00:00Z");
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_EQ(notes_[0]["type"], "dataset.published");
  EXPECT_EQ(notes_[0]["account"], kSeller);
  EXPECT_EQ(notes_[0]["data"]["snsTopicArn"], "arn:aws:sns:local:111111111111:reports");
  auto rows = store_->Query("SELECT data_set_type, row_count FROM dataset_requests WHERE id = ?",
                            {out->request_id});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Int(1), 1);
}

TEST_F(PublisherTest, RefusesOthersBucketsAndBadInput) {
  Json in = {{"dataSetType", "daily_business_fees"},
             {"dataSetPublicationDate", "2026-11-03"},
             {"roleNameArn", "arn:aws:iam::1:role/r"},
             {"destinationS3BucketName", "not-mine"},
             {"snsTopicArn", "arn:aws:sns:local:1:t"}};
  auto input = ParseGenerateDataSetInput(in);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->prefix, "");
  auto out = publisher_->Generate(kSeller, *input);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(objects_.empty());
  EXPECT_TRUE(notes_.empty());

  for (const char* drop : {"dataSetType", "dataSetPublicationDate", "roleNameArn",
                           "destinationS3BucketName", "snsTopicArn"}) {
    Json bad = in;
    bad.erase(drop);
    EXPECT_FALSE(ParseGenerateDataSetInput(bad).ok()) << drop;
  }
  Json bad = in;
  bad["dataSetType"] = "customer_profile_by_revenue";
  EXPECT_EQ(AwsCodeOf(ParseGenerateDataSetInput(bad).status()), "ValidationException");
  bad = in;
  bad["dataSetPublicationDate"] = "yesterday";
  EXPECT_FALSE(ParseGenerateDataSetInput(bad).ok());
}

}  // namespace
}  // namespace mercato::commerce
