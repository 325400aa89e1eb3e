#include "catalog/validation_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/ids.h"
#include "catalog/package_test_util.h"

namespace mercato::catalog {
namespace {

using testing::kSeller;

class ValidationTest : public testing::PackagesTest {
 protected:
  Json Describe(const std::string& name) {
    auto d = service_->DescribeModelPackage(kSeller, {{"ModelPackageName", name}});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Json();
  }
};

TEST_F(ValidationTest, ModelPackageRunsATransformJobAndCompletes) {
  ASSERT_TRUE(service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true)).ok());
  Json d = Describe("m");
  EXPECT_EQ(d["ModelPackageStatus"], "Pending");
  EXPECT_EQ(d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"], "NotStarted");

  ASSERT_TRUE(validator_->Step().ok());
  d = Describe("m");
  EXPECT_EQ(d["ModelPackageStatus"], "InProgress");
  EXPECT_EQ(d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Name"], "batch");
  EXPECT_EQ(d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"], "InProgress");
  ASSERT_EQ(backend_.model_requests.size(), 1u);
  const Json& model = backend_.model_requests[0];
  const std::string image = model["PrimaryContainer"]["Image"];
  EXPECT_NE(image.find("@sha256:"), std::string::npos) << image;  // pinned by digest
  EXPECT_EQ(model["PrimaryContainer"]["ModelDataUrl"], "s3://seller-data/model/model.tar.gz");
  EXPECT_EQ(model["ExecutionRoleArn"], testing::kRole);
  ASSERT_EQ(backend_.transform_requests.size(), 1u);
  const Json& job = backend_.transform_requests[0];
  EXPECT_EQ(job["ModelName"], model["ModelName"]);
  EXPECT_EQ(job["TransformResources"]["InstanceType"], "ml.m5.large");
  EXPECT_TRUE(IsValidResourceName(job["TransformJobName"].get<std::string>()));

  // Nothing moves while the job runs.
  ASSERT_TRUE(validator_->Step().ok());
  EXPECT_EQ(Describe("m")["ModelPackageStatus"], "InProgress");
  backend_.Settle();
  ASSERT_TRUE(validator_->Step().ok());
  d = Describe("m");
  EXPECT_EQ(d["ModelPackageStatus"], "Completed");
  EXPECT_EQ(d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"], "Completed");
  EXPECT_TRUE(backend_.models.empty());  // the temporary model was deleted
  EXPECT_EQ(backend_.transform_requests.size(), 1u);
}

TEST_F(ValidationTest, AlgorithmTrainsThenTransformsWithTheArtifacts) {
  auto created = service_->CreateAlgorithm(kSeller, AlgorithmRequest("algo", true));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(validator_->Step().ok());
  ASSERT_EQ(backend_.training_requests.size(), 1u);
  const Json& t = backend_.training_requests[0];
  EXPECT_NE(t["AlgorithmSpecification"]["TrainingImage"].get<std::string>().find("@sha256:"),
            std::string::npos);
  EXPECT_EQ(t["AlgorithmSpecification"]["TrainingInputMode"], "File");
  EXPECT_EQ(t["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"], "rmse");
  EXPECT_EQ(t["HyperParameters"]["max_depth"], "3");
  EXPECT_EQ(t["RoleArn"], testing::kRole);
  EXPECT_EQ(t["InputDataConfig"][0]["ChannelName"], "train");
  EXPECT_TRUE(backend_.model_requests.empty());

  backend_.Settle();
  ASSERT_TRUE(validator_->Step().ok());
  ASSERT_EQ(backend_.model_requests.size(), 1u);
  EXPECT_EQ(backend_.model_requests[0]["PrimaryContainer"]["ModelDataUrl"],
            "s3://seller-data/out/model.tar.gz");
  EXPECT_EQ(backend_.model_requests[0]["PrimaryContainer"]["Environment"]["MODE"], "test");
  ASSERT_EQ(backend_.transform_requests.size(), 1u);

  backend_.Settle();
  ASSERT_TRUE(validator_->Step().ok());
  auto d = service_->DescribeAlgorithm(kSeller, {{"AlgorithmName", "algo"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["AlgorithmStatus"], "Completed");
  EXPECT_EQ((*d)["AlgorithmStatusDetails"]["ValidationStatuses"][0]["Status"], "Completed");
  EXPECT_TRUE(backend_.models.empty());
}

TEST_F(ValidationTest, FailedJobFailsThePackageWithItsReason) {
  backend_.training_outcome = "Failed";
  ASSERT_TRUE(service_->CreateAlgorithm(kSeller, AlgorithmRequest("algo", true)).ok());
  EXPECT_EQ(Validate("arn:aws:sagemaker:local:111111111111:algorithm/algo"), "Failed");
  auto d = service_->DescribeAlgorithm(kSeller, {{"AlgorithmName", "algo"}});
  const Json& v = (*d)["AlgorithmStatusDetails"]["ValidationStatuses"][0];
  EXPECT_EQ(v["Status"], "Failed");
  EXPECT_NE(v["FailureReason"].get<std::string>().find("AlgorithmError: boom"), std::string::npos)
      << v.dump();

  backend_.transform_outcome = "Failed";
  ASSERT_TRUE(service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true)).ok());
  EXPECT_EQ(Validate("arn:aws:sagemaker:local:111111111111:model-package/m"), "Failed");
  Json md = Describe("m");
  EXPECT_NE(md["ModelPackageStatusDetails"]["ValidationStatuses"][0]["FailureReason"]
                .get<std::string>()
                .find("ClientError: bad input"),
            std::string::npos);
  EXPECT_TRUE(backend_.models.empty());
}

TEST_F(ValidationTest, ResumesWithANewValidatorAndReusesJobNames) {
  ASSERT_TRUE(service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true)).ok());
  ASSERT_TRUE(validator_->Step().ok());
  // A restarted process: a fresh validator continues from the recorded progress.
  validator_ = std::make_unique<PackageValidator>(*service_, backend_);
  backend_.Settle();
  ASSERT_TRUE(validator_->Step().ok());
  EXPECT_EQ(Describe("m")["ModelPackageStatus"], "Completed");
  EXPECT_EQ(backend_.transform_requests.size(), 1u);
}

TEST_F(ValidationTest, DeletingDuringValidationCleansUpTheModel) {
  ASSERT_TRUE(service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true)).ok());
  ASSERT_TRUE(validator_->Step().ok());
  ASSERT_EQ(backend_.models.size(), 1u);
  ASSERT_TRUE(service_->DeleteModelPackage(kSeller, {{"ModelPackageName", "m"}}).ok());
  EXPECT_EQ(Describe("m")["ModelPackageStatus"], "Deleting");
  ASSERT_TRUE(validator_->Step().ok());
  EXPECT_TRUE(backend_.models.empty());
  auto gone = service_->DescribeModelPackage(kSeller, {{"ModelPackageName", "m"}});
  EXPECT_EQ(CodeOf(gone.status()), "ResourceNotFound");
  // The name is free again.
  EXPECT_TRUE(service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true)).ok());
}

TEST_F(ValidationTest, BackgroundThreadAdvancesStatuses) {
  validator_ = std::make_unique<PackageValidator>(
      *service_, backend_, ValidatorOptions{.poll_interval = absl::Milliseconds(10)});
  validator_->Start();
  ASSERT_TRUE(service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true)).ok());
  validator_->Wake();
  std::string status;
  for (int i = 0; i < 1000 && status != "Completed"; ++i) {
    backend_.Settle();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = Describe("m")["ModelPackageStatus"];
  }
  validator_->Stop();
  EXPECT_EQ(status, "Completed");
}

}  // namespace
}  // namespace mercato::catalog
