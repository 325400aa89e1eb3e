#include "catalog/package_service.h"

#include <gtest/gtest.h>

#include "catalog/package_test_util.h"

namespace mercato::catalog {
namespace {

using testing::kBuyer;
using testing::kSeller;

class PackageServiceTest : public testing::PackagesTest {};

TEST_F(PackageServiceTest, AlgorithmWithoutValidationIsCompletedWithBotocoreShape) {
  auto created = service_->CreateAlgorithm(kSeller, AlgorithmRequest("xgb", false));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string arn = (*created)["AlgorithmArn"];
  EXPECT_EQ(arn, "arn:aws:sagemaker:local:111111111111:algorithm/xgb");

  auto d = service_->DescribeAlgorithm(kSeller, {{"AlgorithmName", "xgb"}});
  ASSERT_TRUE(d.ok()) << d.status();
  for (const char* k : {"AlgorithmName", "AlgorithmArn", "CreationTime", "TrainingSpecification",
                        "AlgorithmStatus", "AlgorithmStatusDetails"}) {
    EXPECT_TRUE(d->contains(k)) << k;
  }
  EXPECT_EQ((*d)["AlgorithmStatus"], "Completed");
  EXPECT_EQ((*d)["CreationTime"], 1800000000.0);
  EXPECT_EQ((*d)["AlgorithmDescription"], "gradient boosting");
  EXPECT_EQ((*d)["CertifyForMarketplace"], false);
  EXPECT_TRUE((*d)["AlgorithmStatusDetails"]["ValidationStatuses"].empty());
  ASSERT_EQ((*d)["AlgorithmStatusDetails"]["ImageScanStatuses"].size(), 1u);
  EXPECT_EQ((*d)["AlgorithmStatusDetails"]["ImageScanStatuses"][0]["Status"], "Completed");
  EXPECT_EQ((*d)["TrainingSpecification"]["SupportedHyperParameters"][0]["Name"], "max_depth");
  for (auto it = d->begin(); it != d->end(); ++it) EXPECT_NE(it.key()[0], '_') << it.key();

  auto list = service_->ListAlgorithms(kSeller, Json::object());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["AlgorithmSummaryList"].size(), 1u);
  EXPECT_EQ((*list)["AlgorithmSummaryList"][0]["AlgorithmStatus"], "Completed");
  EXPECT_TRUE((*service_->ListAlgorithms(kBuyer, Json::object()))["AlgorithmSummaryList"].empty());

  auto dup = service_->CreateAlgorithm(kSeller, AlgorithmRequest("xgb", false));
  EXPECT_EQ(CodeOf(dup.status()), "ValidationException");

  ASSERT_TRUE(service_->DeleteAlgorithm(kSeller, {{"AlgorithmName", "xgb"}}).ok());
  auto gone = service_->DescribeAlgorithm(kSeller, {{"AlgorithmName", "xgb"}});
  EXPECT_EQ(CodeOf(gone.status()), "ResourceNotFound");
}

TEST_F(PackageServiceTest, RejectsBadSpecs) {
  Json in = AlgorithmRequest("a1", false);
  in["TrainingSpecification"]["TrainingImage"] = "mercato.local:8600/111111111111/nope:1";
  auto missing = service_->CreateAlgorithm(kSeller, in);
  EXPECT_EQ(CodeOf(missing.status()), "ValidationException");
  EXPECT_NE(missing.status().message().find("image registry"), std::string::npos);

  // Another account's image is not the caller's.
  in = AlgorithmRequest("a1", false);
  EXPECT_EQ(CodeOf(service_->CreateAlgorithm(kBuyer, in).status()), "ValidationException");

  in = AlgorithmRequest("a1", false);
  in["TrainingSpecification"]["SupportedHyperParameters"][0]["DefaultValue"] = "11";
  auto range = service_->CreateAlgorithm(kSeller, in);
  EXPECT_EQ(CodeOf(range.status()), "ValidationException");
  EXPECT_NE(range.status().message().find("outside its Range"), std::string::npos);

  in = AlgorithmRequest("a1", false);
  in["TrainingSpecification"]["SupportedHyperParameters"][0]["Type"] = "Float";
  EXPECT_EQ(CodeOf(service_->CreateAlgorithm(kSeller, in).status()), "ValidationException");

  in = AlgorithmRequest("a1", false);
  in["TrainingSpecification"]["TrainingChannels"] = Json::array();
  EXPECT_EQ(CodeOf(service_->CreateAlgorithm(kSeller, in).status()), "ValidationException");

  in = AlgorithmRequest("a1", false);
  in["CertifyForMarketplace"] = true;
  auto certify = service_->CreateAlgorithm(kSeller, in);
  EXPECT_EQ(CodeOf(certify.status()), "ValidationException");
  EXPECT_NE(certify.status().message().find("CertifyForMarketplace requires"), std::string::npos);

  Json pkg = PackageRequest("p1", clean_image_, false);
  pkg["CertifyForMarketplace"] = true;
  EXPECT_EQ(CodeOf(service_->CreateModelPackage(kSeller, pkg).status()), "ValidationException");
  pkg = PackageRequest("p1", clean_image_, false);
  pkg.erase("InferenceSpecification");
  EXPECT_EQ(CodeOf(service_->CreateModelPackage(kSeller, pkg).status()), "ValidationException");

  in = AlgorithmRequest("a1", true);
  in["ValidationSpecification"]["ValidationProfiles"][0]["TrainingJobDefinition"]["ResourceConfig"]
    ["InstanceType"] = "ml.p3.2xlarge";
  EXPECT_EQ(CodeOf(service_->CreateAlgorithm(kSeller, in).status()), "ValidationException");
}

TEST_F(PackageServiceTest, VersionedGroupsNumberVersions) {
  ASSERT_TRUE(service_
                  ->CreateModelPackageGroup(kSeller, {{"ModelPackageGroupName", "churn"},
                                                      {"ModelPackageGroupDescription", "d"}})
                  .ok());
  EXPECT_EQ(CodeOf(service_->CreateModelPackageGroup(kSeller, {{"ModelPackageGroupName", "churn"}})
                       .status()),
            "ValidationException");
  Json in = PackageRequest("", clean_image_, false);
  in.erase("ModelPackageName");
  in["ModelPackageGroupName"] = "churn";
  auto v1 = service_->CreateModelPackage(kSeller, in);
  auto v2 = service_->CreateModelPackage(kSeller, in);
  ASSERT_TRUE(v1.ok() && v2.ok()) << v1.status() << v2.status();
  EXPECT_EQ((*v1)["ModelPackageArn"], "arn:aws:sagemaker:local:111111111111:model-package/churn/1");
  EXPECT_EQ((*v2)["ModelPackageArn"], "arn:aws:sagemaker:local:111111111111:model-package/churn/2");

  auto d =
      service_->DescribeModelPackage(kSeller, {{"ModelPackageName", (*v2)["ModelPackageArn"]}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)["ModelPackageName"], "churn");
  EXPECT_EQ((*d)["ModelPackageGroupName"], "churn");
  EXPECT_EQ((*d)["ModelPackageVersion"], 2);
  EXPECT_EQ((*d)["ModelApprovalStatus"], "PendingManualApproval");
  EXPECT_EQ((*d)["ModelPackageStatus"], "Completed");

  auto list = service_->ListModelPackages(kSeller, {{"ModelPackageGroupName", "churn"}});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ((*list)["ModelPackageSummaryList"].size(), 2u);
  auto unversioned = service_->ListModelPackages(kSeller, Json::object());
  EXPECT_TRUE((*unversioned)["ModelPackageSummaryList"].empty());

  auto upd =
      service_->UpdateModelPackage(kSeller, {{"ModelPackageArn", (*v1)["ModelPackageArn"]},
                                             {"ModelApprovalStatus", "Approved"},
                                             {"ApprovalDescription", "looks good"},
                                             {"CustomerMetadataProperties", {{"team", "ml"}}}});
  ASSERT_TRUE(upd.ok()) << upd.status();
  d = service_->DescribeModelPackage(kSeller, {{"ModelPackageName", (*v1)["ModelPackageArn"]}});
  EXPECT_EQ((*d)["ModelApprovalStatus"], "Approved");
  EXPECT_EQ((*d)["ApprovalDescription"], "looks good");
  EXPECT_EQ((*d)["CustomerMetadataProperties"]["team"], "ml");
  auto approved = service_->ListModelPackages(
      kSeller, {{"ModelPackageGroupName", "churn"}, {"ModelApprovalStatus", "Approved"}});
  EXPECT_EQ((*approved)["ModelPackageSummaryList"].size(), 1u);

  EXPECT_EQ(CodeOf(service_->DeleteModelPackageGroup(kSeller, {{"ModelPackageGroupName", "churn"}})
                       .status()),
            "ValidationException");
  for (const auto& v : {*v1, *v2}) {
    ASSERT_TRUE(
        service_->DeleteModelPackage(kSeller, {{"ModelPackageName", v["ModelPackageArn"]}}).ok());
  }
  ASSERT_TRUE(
      service_->DeleteModelPackageGroup(kSeller, {{"ModelPackageGroupName", "churn"}}).ok());
  EXPECT_EQ(
      CodeOf(service_->DescribeModelPackageGroup(kSeller, {{"ModelPackageGroupName", "churn"}})
                 .status()),
      "ResourceNotFound");

  in["ModelPackageGroupName"] = "nogroup";
  EXPECT_EQ(CodeOf(service_->CreateModelPackage(kSeller, in).status()), "ValidationException");
}

TEST_F(PackageServiceTest, BuyerSeesOnlyPublicFieldsWhenAllowed) {
  auto created = service_->CreateModelPackage(kSeller, PackageRequest("m1", clean_image_, false));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string arn = (*created)["ModelPackageArn"];

  auto hidden = service_->DescribeModelPackage(kBuyer, {{"ModelPackageName", arn}});
  auto missing = service_->DescribeModelPackage(
      kBuyer, {{"ModelPackageName", "arn:aws:sagemaker:local:111111111111:model-package/zz"}});
  EXPECT_EQ(CodeOf(hidden.status()), "ResourceNotFound");
  EXPECT_EQ(CodeOf(missing.status()), "ResourceNotFound");
  EXPECT_EQ(hidden.status().code(), missing.status().code());
  // By name, the buyer looks in their own account.
  EXPECT_EQ(CodeOf(service_->DescribeModelPackage(kBuyer, {{"ModelPackageName", "m1"}}).status()),
            "ResourceNotFound");

  visible_.insert(std::string(kBuyer) + " " + arn);
  auto shown = service_->DescribeModelPackage(kBuyer, {{"ModelPackageName", arn}});
  ASSERT_TRUE(shown.ok()) << shown.status();
  const std::string text = shown->dump();
  EXPECT_EQ(text.find("seller-data"), std::string::npos) << text;
  EXPECT_EQ(text.find("mercato.local"), std::string::npos) << text;
  EXPECT_EQ(text.find("sha256:"), std::string::npos) << text;
  EXPECT_EQ((*shown)["ModelPackageArn"], arn);
  EXPECT_EQ((*shown)["InferenceSpecification"]["SupportedContentTypes"][0], "text/csv");
  EXPECT_EQ((*shown)["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"][0],
            "ml.m5.large");
  EXPECT_TRUE(
      (*service_->ListModelPackages(kBuyer, Json::object()))["ModelPackageSummaryList"].empty());
  // Buyers cannot delete or update it.
  EXPECT_EQ(CodeOf(service_->DeleteModelPackage(kBuyer, {{"ModelPackageName", arn}}).status()),
            "ResourceNotFound");
  EXPECT_EQ(CodeOf(service_
                       ->UpdateModelPackage(
                           kBuyer, {{"ModelPackageArn", arn}, {"ModelApprovalStatus", "Approved"}})
                       .status()),
            "ResourceNotFound");
}

TEST_F(PackageServiceTest, AlgorithmViewForBuyerKeepsSpecsWithoutImages) {
  auto created = service_->CreateAlgorithm(kSeller, AlgorithmRequest("algo", true));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string arn = (*created)["AlgorithmArn"];
  visible_.insert(std::string(kBuyer) + " " + arn);
  auto shown = service_->DescribeAlgorithm(kBuyer, {{"AlgorithmName", arn}});
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_FALSE(shown->contains("ValidationSpecification"));
  EXPECT_FALSE((*shown)["TrainingSpecification"].contains("TrainingImage"));
  EXPECT_EQ((*shown)["TrainingSpecification"]["TrainingChannels"][0]["Name"], "train");
  EXPECT_EQ((*shown)["TrainingSpecification"]["MetricDefinitions"][0]["Name"], "rmse");
  EXPECT_EQ((*shown)["TrainingSpecification"]["SupportedHyperParameters"].size(), 2u);
  EXPECT_EQ(shown->dump().find("mercato.local"), std::string::npos);
  EXPECT_EQ(shown->dump().find("s3://"), std::string::npos);
}

TEST_F(PackageServiceTest, HighSeverityFindingFailsTheImageScan) {
  const std::string bad = Push(kSeller, "bad:1", true);
  auto created = service_->CreateModelPackage(kSeller, PackageRequest("bad", bad, false));
  ASSERT_TRUE(created.ok()) << created.status();
  auto d = service_->DescribeModelPackage(kSeller, {{"ModelPackageName", "bad"}});
  ASSERT_TRUE(d.ok());
  const Json& scans = (*d)["ModelPackageStatusDetails"]["ImageScanStatuses"];
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_EQ(scans[0]["Name"], bad);
  EXPECT_EQ(scans[0]["Status"], "Failed");
  EXPECT_NE(scans[0]["FailureReason"].get<std::string>().find("private-key"), std::string::npos);
}

TEST_F(PackageServiceTest, PackageFromAlgorithmTakesItsInferenceContainers) {
  ASSERT_TRUE(service_->CreateAlgorithm(kSeller, AlgorithmRequest("algo", false)).ok());
  Json in = {
      {"ModelPackageName", "trained"},
      {"SourceAlgorithmSpecification",
       {{"SourceAlgorithms",
         {{{"AlgorithmName", "algo"}, {"ModelDataUrl", "s3://seller-data/model/model.tar.gz"}}}}}}};
  auto created = service_->CreateModelPackage(kSeller, in);
  ASSERT_TRUE(created.ok()) << created.status();
  auto found = service_->Lookup("trained", kSeller);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ((*found)["Kind"], "model-package");
  EXPECT_EQ((*found)["Account"], kSeller);
  ASSERT_EQ((*found)["Containers"].size(), 1u);
  EXPECT_EQ((*found)["Containers"][0]["Image"], clean_image_);
  EXPECT_EQ((*found)["Containers"][0]["ImageAccount"], kSeller);
  EXPECT_EQ((*found)["Containers"][0]["ModelDataUrl"], "s3://seller-data/model/model.tar.gz");
  EXPECT_EQ((*found)["Containers"][0]["ModelDataAccount"], kSeller);
  EXPECT_EQ((*found)["Containers"][0]["Environment"]["MODE"], "test");
  EXPECT_TRUE((*found)["MarketplaceArns"].empty());
  EXPECT_EQ(
      (*found)["Describe"]["SourceAlgorithmSpecification"]["SourceAlgorithms"][0]["AlgorithmName"],
      "algo");

  // Another account may build on the algorithm only when the marketplace lets it see it.
  const std::string algo_arn = "arn:aws:sagemaker:local:111111111111:algorithm/algo";
  in["SourceAlgorithmSpecification"]["SourceAlgorithms"][0]["AlgorithmName"] = algo_arn;
  in["SourceAlgorithmSpecification"]["SourceAlgorithms"][0]["ModelDataUrl"] = "s3://b/k.tar.gz";
  EXPECT_EQ(CodeOf(service_->CreateModelPackage(kBuyer, in).status()), "ValidationException");
  visible_.insert(std::string(kBuyer) + " " + algo_arn);
  ASSERT_TRUE(service_->CreateModelPackage(kBuyer, in).ok());
  auto buyer_pkg = service_->Lookup("trained", kBuyer);
  ASSERT_TRUE(buyer_pkg.ok());
  EXPECT_EQ((*buyer_pkg)["Containers"][0]["ImageAccount"], kSeller);
  EXPECT_EQ((*buyer_pkg)["Containers"][0]["ModelDataAccount"], kBuyer);
  EXPECT_EQ((*buyer_pkg)["MarketplaceArns"][0], algo_arn);
}

}  // namespace
}  // namespace mercato::catalog
