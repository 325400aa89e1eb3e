#include "hosting/hosting_service.h"

#include "hosting/testing/hosting_fixture.h"

namespace mercato::hosting::testing {
namespace {

using ServiceTest = HostingFixture;

std::string Code(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

TEST_F(ServiceTest, ModelLifecycleAndValidation) {
  auto r = service_->CreateModel(
      kAccount,
      {{"ModelName", "my-model"},
       {"PrimaryContainer", {{"Image", "algo:1"}, {"ModelDataUrl", "s3://b/model.tar.gz"}}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["ModelArn"], "arn:aws:sagemaker:local:111122223333:model/my-model");
  auto dup = service_->CreateModel(
      kAccount, {{"ModelName", "my-model"}, {"PrimaryContainer", {{"Image", "algo:1"}}}});
  EXPECT_EQ(Code(dup.status()), "ValidationException");
  EXPECT_NE(dup.status().message().find("Cannot create already existing model"), std::string::npos);
  auto bad = service_->CreateModel(
      kAccount, {{"ModelName", "bad_name"}, {"PrimaryContainer", {{"Image", "algo:1"}}}});
  EXPECT_NE(bad.status().message().find("regular expression pattern"), std::string::npos);
  auto missing = service_->CreateModel(kAccount, {{"ModelName", "x"}});
  EXPECT_EQ(Code(missing.status()), "ValidationException");
  auto badurl = service_->CreateModel(
      kAccount,
      {{"ModelName", "y"}, {"PrimaryContainer", {{"Image", "a"}, {"ModelDataUrl", "http://x"}}}});
  EXPECT_EQ(Code(badurl.status()), "ValidationException");
  auto d = service_->DescribeModel(kAccount, {{"ModelName", "my-model"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["PrimaryContainer"]["ModelDataUrl"], "s3://b/model.tar.gz");
  EXPECT_TRUE((*d)["CreationTime"].is_number());
  EXPECT_FALSE(service_->DescribeModel("999988887777", {{"ModelName", "my-model"}}).ok());
  EXPECT_TRUE(service_->DeleteModel(kAccount, {{"ModelName", "my-model"}}).ok());
  EXPECT_EQ(Code(service_->DeleteModel(kAccount, {{"ModelName", "my-model"}}).status()),
            "ValidationException");
}

TEST_F(ServiceTest, EndpointConfigValidation) {
  Model("m");
  auto bad_type =
      service_->CreateEndpointConfig(kAccount, {{"EndpointConfigName", "c"},
                                                {"ProductionVariants",
                                                 {{{"VariantName", "A"},
                                                   {"ModelName", "m"},
                                                   {"InitialInstanceCount", 1},
                                                   {"InstanceType", "ml.bogus.huge"}}}}});
  EXPECT_NE(bad_type.status().message().find("ml.bogus.huge"), std::string::npos);
  auto no_model = service_->CreateEndpointConfig(
      kAccount,
      {{"EndpointConfigName", "c"}, {"ProductionVariants", Json::array({Variant("A", "nope")})}});
  EXPECT_NE(no_model.status().message().find("Could not find model"), std::string::npos);
  auto too_many = service_->CreateEndpointConfig(
      kAccount,
      {{"EndpointConfigName", "c"}, {"ProductionVariants", Json::array({Variant("A", "m", 50)})}});
  EXPECT_EQ(Code(too_many.status()), "ResourceLimitExceeded");
  Config("c", Json::array({Variant("A", "m")}));
  auto d = service_->DescribeEndpointConfig(kAccount, {{"EndpointConfigName", "c"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["ProductionVariants"][0]["InstanceType"], "ml.m5.large");
  auto no_config =
      service_->CreateEndpoint(kAccount, {{"EndpointName", "e"}, {"EndpointConfigName", "zz"}});
  EXPECT_NE(no_config.status().message().find("Could not find endpoint configuration"),
            std::string::npos);
}

TEST_F(ServiceTest, ListsFilterSortAndPaginate) {
  for (const char* n : {"alpha", "beta", "gamma", "alphabet"}) Model(n);
  auto all = service_->ListModels(kAccount, {{"SortBy", "Name"}, {"SortOrder", "Ascending"}});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ((*all)["Models"].size(), 4u);
  EXPECT_EQ((*all)["Models"][0]["ModelName"], "alpha");
  auto contains = service_->ListModels(kAccount, {{"NameContains", "ALPHA"}});
  EXPECT_EQ((*contains)["Models"].size(), 2u);
  auto page1 = service_->ListModels(kAccount, {{"SortBy", "Name"}, {"MaxResults", 3}});
  ASSERT_EQ((*page1)["Models"].size(), 3u);
  EXPECT_EQ((*page1)["Models"][0]["ModelName"], "gamma");  // Descending by default
  auto page2 = service_->ListModels(
      kAccount, {{"SortBy", "Name"}, {"MaxResults", 3}, {"NextToken", (*page1)["NextToken"]}});
  ASSERT_EQ((*page2)["Models"].size(), 1u);
  EXPECT_FALSE(page2->contains("NextToken"));
  auto future = service_->ListModels(kAccount, {{"CreationTimeAfter", 4102444800.0}});
  EXPECT_TRUE((*future)["Models"].empty());
  EXPECT_FALSE(service_->ListModels(kAccount, {{"MaxResults", 0}}).ok());
  Config("c", Json::array({Variant("A", "alpha")}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "e"}, {"EndpointConfigName", "c"}})
          .ok());
  auto creating = service_->ListEndpoints(kAccount, {{"StatusEquals", "Creating"}});
  EXPECT_EQ((*creating)["Endpoints"].size(), 1u);
  auto in_service = service_->ListEndpoints(kAccount, {{"StatusEquals", "InService"}});
  EXPECT_TRUE((*in_service)["Endpoints"].empty());
}

}  // namespace
}  // namespace mercato::hosting::testing
