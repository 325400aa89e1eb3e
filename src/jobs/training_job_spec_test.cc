#include "jobs/training_job_spec.h"

#include <filesystem>
#include <fstream>

#include "base/crypto.h"
#include "base/errors.h"
#include "gtest/gtest.h"

namespace mercato::jobs::training {
namespace {

// clang-format off
Json ValidRequest() {
  return ParseJson(R"json({
    "TrainingJobName": "iris-1",
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "AlgorithmSpecification": {
      "TrainingImage": "mercato-xgboost:latest", "TrainingInputMode": "File",
      "MetricDefinitions": [{"Name": "validation:merror",
                             "Regex": "validation-merror:([0-9\\.]+)"}]},
    "HyperParameters": {"num_round": "20", "objective": "multi:softmax"},
    "InputDataConfig": [
      {"ChannelName": "train", "ContentType": "text/csv",
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                       "S3Uri": "s3://data/iris/train"}}},
      {"ChannelName": "validation",
       "DataSource": {"S3DataSource": {"S3DataType": "ManifestFile",
                                       "S3Uri": "s3://data/manifest.json"}}}],
    "OutputDataConfig": {"S3OutputPath": "s3://models/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 5},
    "StoppingCondition": {"MaxRuntimeInSeconds": 600}
  })json").value();
}
// clang-format on

std::string ErrorOf(const Json& in) {
  sandbox::InstanceTypes types = sandbox::InstanceTypes::Default();
  auto spec = TrainingJobSpec::FromRequest(in, &types);
  if (spec.ok()) return "OK";
  return AwsCodeOf(spec.status()).value_or("?") + ": " + std::string(spec.status().message());
}

TEST(TrainingJobSpecTest, ParsesAValidRequest) {
  sandbox::InstanceTypes types = sandbox::InstanceTypes::Default();
  auto spec = TrainingJobSpec::FromRequest(ValidRequest(), &types);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "iris-1");
  EXPECT_EQ(spec->image, "mercato-xgboost:latest");
  EXPECT_EQ(spec->instance_count, 2);
  EXPECT_EQ(spec->max_runtime_seconds, 600);
  ASSERT_EQ(spec->channels.size(), 2u);
  EXPECT_EQ(spec->channels[0].data_type, "S3Prefix");
  EXPECT_EQ(spec->channels[1].data_type, "ManifestFile");
  EXPECT_EQ(spec->hyperparameters.at("num_round"), "20");
  ASSERT_EQ(spec->metrics.size(), 1u);
  EXPECT_EQ(spec->output_path, "s3://models/out");
}

TEST(TrainingJobSpecTest, RejectsBadRequests) {
  auto with = [](auto mutate) {
    Json j = ValidRequest();
    mutate(j);
    return ErrorOf(j);
  };
  EXPECT_EQ(with([](Json& j) { j.erase("RoleArn"); }),
            "ValidationException: 1 validation error detected: Value null at 'roleArn' failed to "
            "satisfy constraint: Member must not be null");
  EXPECT_NE(with([](Json& j) { j["TrainingJobName"] = "bad_name"; }).find("regular expression"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) { j["RoleArn"] = "not-an-arn-at-all-really"; }).find("roleArn"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) { j["HyperParameters"]["eta"] = 0.3; }).find("eta"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe";
            }).find("not supported"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["AlgorithmSpecification"].erase("TrainingInputMode");
            }).find("trainingInputMode"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["ResourceConfig"]["InstanceType"] = "ml.nope.large";
            }).find("ValidationException"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["ResourceConfig"]["InstanceCount"] = 0;
            }).find("greater than or equal to 1"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["ResourceConfig"]["InstanceCount"] = 50;
            }).find("ResourceLimitExceeded"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["StoppingCondition"]["MaxRuntimeInSeconds"] = 0;
            }).find("maxRuntimeInSeconds"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["OutputDataConfig"]["S3OutputPath"] = "https://x/y";
            }).find("S3OutputPath"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["AlgorithmSpecification"]["MetricDefinitions"][0]["Regex"] = "([0-9";
            }).find("invalid"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) { j["InputDataConfig"][1]["ChannelName"] = "train"; }).find("unique"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = "Bogus";
            }).find("enum"),
            std::string::npos);
  EXPECT_NE(with([](Json& j) {
              j["Environment"] = {{"1BAD", "x"}};
            }).find("environment"),
            std::string::npos);
  EXPECT_EQ(with([](Json& j) {
              j.erase("StoppingCondition");
              j.erase("InputDataConfig");
            }),
            "OK");
}

TEST(TrainingJobSpecTest, DescribedRequestFillsDefaults) {
  Json in = ValidRequest();
  in.erase("StoppingCondition");
  Json d = DescribedRequest(in);
  EXPECT_EQ(d["StoppingCondition"]["MaxRuntimeInSeconds"], kDefaultMaxRuntimeSeconds);
  EXPECT_EQ(d["InputDataConfig"][0]["CompressionType"], "None");
  EXPECT_EQ(d["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"],
            "FullyReplicated");
  EXPECT_EQ(d["EnableNetworkIsolation"], false);
  EXPECT_EQ(d["AlgorithmSpecification"]["TrainingImage"], "mercato-xgboost:latest");
  EXPECT_EQ(d["HyperParameters"]["num_round"], "20");
}

TEST(TrainingJobSpecTest, ChannelRelativePaths) {
  EXPECT_EQ(ChannelRelativePath("iris/train", "iris/train/a.csv"), "a.csv");
  EXPECT_EQ(ChannelRelativePath("iris/train/", "iris/train/sub/b.csv"), "sub/b.csv");
  EXPECT_EQ(ChannelRelativePath("iris/train.csv", "iris/train.csv"), "train.csv");
  EXPECT_EQ(ChannelRelativePath("iris/tr", "iris/train.csv"), "train.csv");
  EXPECT_EQ(ChannelRelativePath("", "x/y.csv"), "x/y.csv");
  EXPECT_EQ(ChannelRelativePath("p/", "p//a"), "a");
  EXPECT_EQ(ChannelRelativePath("p/", "p/dir/"), std::nullopt);
  EXPECT_EQ(ChannelRelativePath("p/", "p/../etc/passwd"), std::nullopt);
  EXPECT_EQ(ChannelRelativePath("p/", "q/a"), std::nullopt);
}

TEST(TrainingJobSpecTest, Manifests) {
  auto m = ParseManifest(R"([{"prefix": "s3://b/data/"}, "a.csv", "sub/b.csv"])");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->prefix, "s3://b/data/");
  EXPECT_EQ(m->keys, (std::vector<std::string>{"a.csv", "sub/b.csv"}));
  EXPECT_FALSE(ParseManifest("[\"a\"]").ok());
  EXPECT_FALSE(ParseManifest(R"([{"prefix": "b/data"}])").ok());
  EXPECT_FALSE(ParseManifest(R"([{"prefix": "s3://b/"}, 3])").ok());
}

TEST(TrainingJobSpecTest, MetricsKeepTheLastValue) {
  auto c = MetricCollector::Create({{"validation:merror", "validation-merror:([0-9\\.]+)"},
                                    {"train:merror", "train-merror:([0-9\\.]+)"},
                                    {"never", "nothing-here:([0-9]+)"}});
  ASSERT_TRUE(c.ok());
  absl::Time t0 = absl::FromUnixSeconds(1000);
  c->Feed("[0]\ttrain-merror:0.05000\tvalidation-merror:0.10000", t0);
  c->Feed("[1]\ttrain-merror:0.02000\tvalidation-merror:0.06667", t0 + absl::Seconds(1));
  c->Feed("unrelated line", t0 + absl::Seconds(2));
  Json f = c->Final();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0]["MetricName"], "validation:merror");
  EXPECT_DOUBLE_EQ(f[0]["Value"].get<double>(), 0.06667);
  EXPECT_DOUBLE_EQ(f[0]["Timestamp"].get<double>(), 1001.0);
  EXPECT_EQ(f[1]["MetricName"], "train:merror");
  EXPECT_DOUBLE_EQ(f[1]["Value"].get<double>(), 0.02);
}

TEST(TrainingJobSpecTest, HostConfigFiles) {
  sandbox::InstanceTypes types = sandbox::InstanceTypes::Default();
  auto spec = TrainingJobSpec::FromRequest(ValidRequest(), &types).value();
  auto dir = std::filesystem::temp_directory_path() / ("tjspec-" + RandomHex(6));
  ASSERT_TRUE(WriteHostConfig(dir.string(), spec, "algo-2").ok());
  auto read = [&](const char* name) {
    std::ifstream in(dir / name);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return ParseJson(s).value();
  };
  Json rc = read("resourceconfig.json");
  EXPECT_EQ(rc["current_host"], "algo-2");
  EXPECT_EQ(rc["hosts"], Json::array({"algo-1", "algo-2"}));
  EXPECT_EQ(rc["network_interface_name"], "eth0");
  EXPECT_EQ(rc["current_instance_type"], "ml.m5.large");
  Json hp = read("hyperparameters.json");
  EXPECT_EQ(hp["num_round"], "20");
  Json idc = read("inputdataconfig.json");
  EXPECT_EQ(idc["train"]["ContentType"], "text/csv");
  EXPECT_EQ(idc["train"]["TrainingInputMode"], "File");
  EXPECT_TRUE(idc.contains("validation"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mercato::jobs::training
