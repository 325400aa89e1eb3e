#include "catalog/offer.h"

#include "gtest/gtest.h"

namespace mercato::catalog {
namespace {

TEST(OfferTest, UsdMicros) {
  EXPECT_EQ(*ParseUsdMicros(Json("0.50"), "p"), 500000);
  EXPECT_EQ(*ParseUsdMicros(Json("12"), "p"), 12000000);
  EXPECT_EQ(*ParseUsdMicros(Json("0.000001"), "p"), 1);
  EXPECT_EQ(*ParseUsdMicros(Json("007.1"), "p"), 7100000);
  for (const char* bad : {"-1", "abc", "1.", ".5", "1.0000001", "1e3", "", "1,5", "1000000000"}) {
    EXPECT_FALSE(ParseUsdMicros(Json(bad), "p").ok()) << bad;
  }
  EXPECT_FALSE(ParseUsdMicros(Json(0.5), "p").ok());
  EXPECT_EQ(FormatUsdMicros(500000), "0.500000");
}

TEST(OfferTest, ParseOffer) {
  auto types = sandbox::InstanceTypes::Default();
  auto free = ParseOffer(Json::object(), types);
  ASSERT_TRUE(free.ok());
  EXPECT_TRUE(free->is_free);
  EXPECT_EQ(free->json["Pricing"], "Free");
  auto paid = ParseOffer(
      Json{{"Pricing",
            {{"Training", {{"ml.m5.xlarge", "1.25"}}}, {"Transform", {{"ml.m5.large", "0.2"}}}}},
           {"FreeTrialDays", 30},
           {"TestAccounts", {"123456789012"}}},
      types);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_FALSE(paid->is_free);
  EXPECT_EQ(paid->json["PricingMicros"]["Training"]["ml.m5.xlarge"], 1250000);
  EXPECT_EQ(paid->test_accounts, std::vector<std::string>{"123456789012"});
  EXPECT_FALSE(ParseOffer(Json{{"Pricing", {{"Endpoint", {{"ml.zz.large", "1"}}}}}}, types).ok());
  EXPECT_FALSE(ParseOffer(Json{{"Pricing", {{"Hosting", {{"ml.m5.large", "1"}}}}}}, types).ok());
  EXPECT_FALSE(ParseOffer(Json{{"Pricing", "Cheap"}}, types).ok());
  EXPECT_FALSE(ParseOffer(Json{{"FreeTrialDays", -1}}, types).ok());
  EXPECT_FALSE(ParseOffer(Json{{"FreeTrialDays", 5}}, types).ok());  // free has no trial
  EXPECT_FALSE(ParseOffer(Json{{"TestAccounts", {"12"}}}, types).ok());
  Json hourly = {{"Endpoint", {{"ml.m5.large", "0.50"}}}};
  for (int days : {0, 5, 120}) {
    EXPECT_TRUE(ParseOffer(Json{{"Pricing", hourly}, {"FreeTrialDays", days}}, types).ok()) << days;
  }
  for (Json days : {Json(4), Json(121), Json(1), Json(-5), Json("7"), Json(7.5)}) {
    auto bad = ParseOffer(Json{{"Pricing", hourly}, {"FreeTrialDays", days}}, types);
    ASSERT_FALSE(bad.ok()) << days;
    EXPECT_NE(bad.status().message().find("FreeTrialDays"), std::string::npos);
  }
  // A trial waives hourly charges only: per-inference pricing alone has none.
  auto per_inference =
      ParseOffer(Json{{"Pricing", {{"PerInference", "0.01"}}}, {"FreeTrialDays", 7}}, types);
  ASSERT_FALSE(per_inference.ok());
  EXPECT_NE(per_inference.status().message().find("hourly"), std::string::npos);
  auto negative = ParseOffer(Json{{"Pricing", {{"Endpoint", {{"ml.m5.large", "-0.5"}}}}}}, types);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("negative"), std::string::npos);
  auto words = ParseOffer(Json{{"Pricing", {{"Transform", {{"ml.m5.large", "cheap"}}}}}}, types);
  ASSERT_FALSE(words.ok());
  EXPECT_NE(words.status().message().find("not a decimal"), std::string::npos);
  auto unknown = ParseOffer(Json{{"Pricing", {{"Endpoint", {{"ml.zz.huge", "1"}}}}}}, types);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown instance type ml.zz.huge"), std::string::npos);
  EXPECT_FALSE(ParseOffer(Json{{"Other", 1}}, types).ok());
}

}  // namespace
}  // namespace mercato::catalog
