#include "commerce/marketplace_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mercato::commerce {
namespace {

using ::testing::HasSubstr;

Json Spec() {
  return Json::parse(R"json({
    "TrainingImage": "seller/xgb:1",
    "SupportedTrainingInstanceTypes": ["ml.m5.large", "ml.m5.xlarge"],
    "SupportsDistributedTraining": false,
    "MetricDefinitions": [{"Name": "validation:merror", "Regex": "merror:([0-9.]+)"}],
    "SupportedHyperParameters": [
      {"Name": "num_round", "Type": "Integer", "IsRequired": true,
       "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "1000"}}},
      {"Name": "eta", "Type": "Continuous", "DefaultValue": "0.3",
       "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0", "MaxValue": "1"}}},
      {"Name": "objective", "Type": "Categorical", "DefaultValue": "multi:softmax",
       "Range": {"CategoricalParameterRangeSpecification":
                 {"Values": ["multi:softmax", "binary:logistic"]}}},
      {"Name": "note", "Type": "FreeText"}
    ],
    "TrainingChannels": [
      {"Name": "train", "IsRequired": true, "SupportedContentTypes": ["text/csv"],
       "SupportedInputModes": ["File"]},
      {"Name": "validation", "SupportedContentTypes": ["text/csv"],
       "SupportedInputModes": ["File"]}
    ]
})json");
}

Json Request() {
  return Json::parse(R"({
    "TrainingJobName": "j",
    "AlgorithmSpecification": {"AlgorithmName": "arn:x", "TrainingInputMode": "File"},
    "HyperParameters": {"num_round": "10"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv",
      "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/t"}}}]})");
}

TEST(MarketplaceRulesTest, ResolvesImageDefaultsMetricsAndIsolation) {
  auto out = ResolveAlgorithmTraining(Request(), Spec(), "algo", "escrow/xgb@sha256:ab");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["AlgorithmSpecification"]["TrainingImage"], "escrow/xgb@sha256:ab");
  EXPECT_FALSE((*out)["AlgorithmSpecification"].contains("AlgorithmName"));
  EXPECT_EQ((*out)["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"], "validation:merror");
  EXPECT_EQ((*out)["HyperParameters"]["eta"], "0.3");
  EXPECT_EQ((*out)["HyperParameters"]["objective"], "multi:softmax");
  EXPECT_EQ((*out)["HyperParameters"]["num_round"], "10");
  EXPECT_FALSE((*out)["HyperParameters"].contains("note"));
  EXPECT_EQ((*out)["EnableNetworkIsolation"], true);
}

struct BadCase {
  const char* patch;  // JSON merge patch applied to Request()
  const char* message;
};

TEST(MarketplaceRulesTest, RefusesWhatTheSpecDoesNotAllow) {
  const BadCase cases[] = {
      {R"({"HyperParameters": {"num_round": "5000"}})", "outside its range [1, 1000]"},
      {R"({"HyperParameters": {"num_round": "ten"}})", "must be an integer"},
      {R"({"HyperParameters": {"num_round": "1", "eta": "1.5"}})", "outside its range [0, 1]"},
      {R"({"HyperParameters": {"num_round": "1", "eta": "fast"}})", "must be a number"},
      {R"({"HyperParameters": {"num_round": "1", "objective": "reg:linear"}})",
       "must be one of: multi:softmax, binary:logistic"},
      {R"({"HyperParameters": {"num_round": "1", "depth": "3"}})",
       "Hyperparameter 'depth' is not supported"},
      {R"({"HyperParameters": null})", "requires the hyperparameter 'num_round'"},
      {R"({"ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1}})",
       "Instance type ml.p3.2xlarge is not supported by algorithm algo"},
      {R"({"ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2}})",
       "does not support distributed training"},
      {R"({"InputDataConfig": [{"ChannelName": "extra", "DataSource": {}}]})",
       "Channel 'extra' is not supported"},
      {R"({"InputDataConfig": [{"ChannelName": "validation", "DataSource": {}}]})",
       "requires the channel 'train'"},
      {R"({"InputDataConfig": [{"ChannelName": "train", "ContentType": "image/png",
           "DataSource": {}}]})",
       "Content type 'image/png' is not supported for channel 'train'"},
      {R"({"InputDataConfig": [{"ChannelName": "train", "InputMode": "Pipe",
           "DataSource": {}}]})",
       "Input mode 'Pipe' is not supported"},
  };
  for (const BadCase& c : cases) {
    Json req = Request();
    req.merge_patch(Json::parse(c.patch));
    auto out = ResolveAlgorithmTraining(req, Spec(), "algo", "img");
    ASSERT_FALSE(out.ok()) << c.patch;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << c.patch;
    EXPECT_THAT(std::string(out.status().message()), HasSubstr(c.message)) << c.patch;
  }
}

}  // namespace
}  // namespace mercato::commerce
