#include "commerce/dataset.h"

#include "base/errors.h"
#include "gtest/gtest.h"

namespace mercato::commerce {
namespace {

TEST(DataSetTest, MoneyIsExactWithSixPlaces) {
  EXPECT_EQ(FormatUsd6(0), "0.000000");
  EXPECT_EQ(FormatUsd6(1), "0.000001");
  EXPECT_EQ(FormatUsd6(12500000), "12.500000");
  EXPECT_EQ(FormatUsd6(-1500000), "-1.500000");
  EXPECT_EQ(FormatUsd6(-1), "-0.000001");
  EXPECT_EQ(FormatUsd6(INT64_MIN), "-9223372036854.775808");
  EXPECT_EQ(FormatInstanceHours(9000000000LL), "2.500000");
  EXPECT_EQ(FormatInstanceHours(600000000LL), "0.166667");  // 10 min
  EXPECT_EQ(FormatInstanceHours(1799), "0.000000");
  EXPECT_EQ(FormatInstanceHours(1800), "0.000001");
}

TEST(DataSetTest, PpmRoundsHalfAwayFromZero) {
  EXPECT_EQ(ScalePpm(1450000, 200000), 290000);
  EXPECT_EQ(ScalePpm(5, 100000), 1);                           // 0.5 → 1
  EXPECT_EQ(ScalePpm(-5, 100000), -1);                         // -0.5 → -1
  EXPECT_EQ(ScalePpm(4, 100000), 0);                           // 0.4 → 0
  EXPECT_EQ(ScalePpm(INT64_MAX / 2, 1000000), INT64_MAX / 2);  // no overflow
}

TEST(DataSetTest, CsvQuotesOnlyWhenNeeded) {
  DataSet d{"t", "p", {"A", "B"}, {{"plain", "with, comma"}, {"say \"hi\"", "two\nlines"}}};
  EXPECT_EQ(DataSetCsv(d), "A,B\nplain,\"with, comma\"\n\"say \"\"hi\"\"\",\"two\nlines\"\n");
  Json j = DataSetJson(d);
  EXPECT_EQ(j["Rows"][0]["B"], "with, comma");
  EXPECT_EQ(j["Columns"].size(), 2u);
  EXPECT_EQ(j["DataSetType"], "t");
}

TEST(DataSetTest, CustomerReferenceIdIsStableAndOpaque) {
  std::string key = DeriveCustomerKey(std::string(32, 'k'));
  std::string a = CustomerReferenceId(key, "333333333333");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find("333333333333"), std::string::npos);
  EXPECT_EQ(a, CustomerReferenceId(DeriveCustomerKey(std::string(32, 'k')), "333333333333"));
  EXPECT_NE(a, CustomerReferenceId(key, "444444444444"));
  EXPECT_NE(a, CustomerReferenceId(DeriveCustomerKey(std::string(32, 'x')), "333333333333"));
  for (char c : a) EXPECT_TRUE(isxdigit(static_cast<unsigned char>(c)) && !isupper(c));
}

TEST(DataSetTest, PeriodsAreUtcAndStrict) {
  auto day = ParseReportDay("2026-11-03");
  ASSERT_TRUE(day.ok());
  ReportPeriod p = DayPeriod(*day);
  EXPECT_EQ(p.label, "2026-11-03");
  EXPECT_EQ(p.end - p.start, 86400LL * 1000000);
  EXPECT_EQ(FormatDay(p.start), "2026-11-03");
  ReportPeriod w = WeekPeriod(*day);  // a Tuesday
  EXPECT_EQ(w.label, "2026-11-02..2026-11-08");
  EXPECT_EQ(w.end - w.start, 7 * 86400LL * 1000000);
  auto month = ParseReportMonth("2026-02");
  ASSERT_TRUE(month.ok());
  EXPECT_EQ(MonthPeriod(*month).end - MonthPeriod(*month).start, 28 * 86400LL * 1000000);
  EXPECT_EQ(MonthPeriod(*month).month, "2026-02");
  for (const char* bad : {"2026-02-30", "2026-1-03", "20261103", "2026-11-03x", ""}) {
    auto r = ParseReportDay(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(AwsCodeOf(r.status()), "InvalidDate");
  }
  for (const char* bad : {"2026-13", "2026-00", "26-11", "2026-11-01"}) {
    EXPECT_FALSE(ParseReportMonth(bad).ok()) << bad;
  }
}

TEST(DataSetTest, SpecsCoverTheIssueTypes) {
  for (const char* name :
       {"daily_business_usage_by_instance_type", "daily_business_fees",
        "daily_business_free_trial_conversions", "daily_business_new_instances",
        "daily_business_new_product_subscribers", "daily_business_canceled_product_subscribers",
        "customer_subscriber_hourly_monthly_subscriptions",
        "monthly_revenue_billing_and_revenue_data", "disbursed_amount_by_product",
        "disbursed_amount_by_customer_geo", "disbursed_amount_by_instance_hours",
        "us_sales_and_use_tax_records", "daily_business_ref_tags", "weekly_business_ref_tags"}) {
    const DataSetSpec* s = FindDataSetSpec(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_FALSE(s->columns.empty());
  }
  EXPECT_EQ(FindDataSetSpec("customer_profile_by_industry"), nullptr);
}

}  // namespace
}  // namespace mercato::commerce
