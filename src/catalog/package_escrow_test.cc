#include "catalog/package_escrow.h"

#include <gtest/gtest.h>

#include "catalog/package_test_util.h"

namespace mercato::catalog {
namespace {

using testing::kBuyer;
using testing::kEscrow;
using testing::kSeller;

class EscrowTest : public testing::PackagesTest {};

TEST_F(EscrowTest, CopySurvivesDeletionOfTheSourcePackageAndImage) {
  auto created = service_->CreateModelPackage(kSeller, PackageRequest("m", clean_image_, true));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string arn = (*created)["ModelPackageArn"];
  ASSERT_EQ(Validate(arn), "Completed");

  auto escrowed = escrow_->Escrow(kSeller, arn, "prod-abc-1-0");
  ASSERT_TRUE(escrowed.ok()) << escrowed.status();
  const std::string escrow_arn = (*escrowed)["Arn"];
  EXPECT_EQ(escrow_arn, "arn:aws:sagemaker:local:999999999999:model-package/prod-abc-1-0");
  EXPECT_EQ((*escrowed)["Kind"], "model-package");
  ASSERT_EQ((*escrowed)["ImageDigests"].size(), 1u);
  ASSERT_EQ((*escrowed)["ModelDataDigests"].size(), 1u);
  const Json& spec = (*escrowed)["Spec"];
  EXPECT_EQ(spec["ModelPackageStatus"], "Completed");
  EXPECT_EQ(spec["CertifyForMarketplace"], true);
  const std::string image = spec["InferenceSpecification"]["Containers"][0]["Image"];
  EXPECT_EQ(image, "mercato.local:8600/999999999999/escrow/prod-abc-1-0@" +
                       (*escrowed)["ImageDigests"][0].get<std::string>());
  EXPECT_EQ(spec["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
            "s3://mercato-escrow/prod-abc-1-0/1/model.tar.gz");

  // Same call again: the same copy.
  auto again = escrow_->Escrow(kSeller, arn, "prod-abc-1-0");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)["Arn"], escrow_arn);

  // The seller deletes everything of theirs.
  ASSERT_TRUE(service_->DeleteModelPackage(kSeller, {{"ModelPackageName", "m"}}).ok());
  ASSERT_TRUE(images_->Delete(kSeller, "algo:1").ok());
  ASSERT_FALSE(images_->Describe(kSeller, "algo:1").ok());

  auto found = service_->Lookup(escrow_arn, kBuyer);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ((*found)["Account"], kEscrow);
  const Json& c = (*found)["Containers"][0];
  EXPECT_EQ(c["ImageAccount"], kEscrow);
  EXPECT_EQ(c["ModelDataAccount"], kEscrow);
  auto img = images_->Describe(kEscrow, c["Image"].get<std::string>());
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_FALSE(img->layers.empty());
  auto data = objects_->Head(kEscrow, "mercato-escrow", "prod-abc-1-0/1/model.tar.gz");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->size, std::string("weights").size());

  // The escrow record is not the seller's: they cannot delete or see it as theirs.
  EXPECT_EQ(
      CodeOf(service_->DeleteModelPackage(kSeller, {{"ModelPackageName", escrow_arn}}).status()),
      "ResourceNotFound");
}

TEST_F(EscrowTest, RefusesWhatCannotBeListed) {
  // Not certified.
  ASSERT_TRUE(
      service_->CreateModelPackage(kSeller, PackageRequest("plain", clean_image_, false)).ok());
  auto s =
      escrow_->Escrow(kSeller, "arn:aws:sagemaker:local:111111111111:model-package/plain", "e1");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("not certified"), std::string::npos) << s.status();

  // Still validating.
  auto pending = service_->CreateModelPackage(kSeller, PackageRequest("p", clean_image_, true));
  ASSERT_TRUE(pending.ok());
  s = escrow_->Escrow(kSeller, (*pending)["ModelPackageArn"].get<std::string>(), "e2");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("Pending"), std::string::npos) << s.status();

  // Validation failed.
  backend_.transform_outcome = "Failed";
  auto failing = service_->CreateModelPackage(kSeller, PackageRequest("f", clean_image_, true));
  ASSERT_EQ(Validate((*failing)["ModelPackageArn"]), "Failed");
  s = escrow_->Escrow(kSeller, (*failing)["ModelPackageArn"].get<std::string>(), "e3");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("Model package f cannot be listed: validation failed: batch"),
            std::string::npos)
      << s.status();
  backend_.transform_outcome = "Completed";

  // High-severity scan finding, although validation passed.
  const std::string bad = Push(kSeller, "bad:1", true);
  auto hostile = service_->CreateModelPackage(kSeller, PackageRequest("h", bad, true));
  ASSERT_EQ(Validate((*hostile)["ModelPackageArn"]), "Completed");
  s = escrow_->Escrow(kSeller, (*hostile)["ModelPackageArn"].get<std::string>(), "e4");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("image scan found high-severity issues"), std::string::npos)
      << s.status();

  // Not the seller's.
  s = escrow_->Escrow(kBuyer, (*pending)["ModelPackageArn"].get<std::string>(), "e5");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EscrowTest, AlgorithmAndAPackageBuiltOnTheEscrowedAlgorithm) {
  ASSERT_TRUE(service_->CreateAlgorithm(kSeller, AlgorithmRequest("algo", true)).ok());
  const std::string algo_arn = "arn:aws:sagemaker:local:111111111111:algorithm/algo";
  ASSERT_EQ(Validate(algo_arn), "Completed");
  auto escrowed = escrow_->Escrow(kSeller, algo_arn, "algo-v1");
  ASSERT_TRUE(escrowed.ok()) << escrowed.status();
  const Json& spec = (*escrowed)["Spec"];
  EXPECT_EQ(spec["AlgorithmStatus"], "Completed");
  const std::string training_image = spec["TrainingSpecification"]["TrainingImage"];
  EXPECT_NE(training_image.find("999999999999/escrow/algo-v1@sha256:"), std::string::npos);
  // Training and inference share one image: one copy.
  EXPECT_EQ((*escrowed)["ImageDigests"].size(), 1u);
  EXPECT_EQ(spec["InferenceSpecification"]["Containers"][0]["Image"], training_image);

  // A buyer who may see the escrowed algorithm builds a model package on it.
  const std::string escrow_algo = (*escrowed)["Arn"];
  visible_.insert(std::string(kBuyer) + " " + escrow_algo);
  ASSERT_TRUE(objects_->EnsureBucket(kBuyer, "buyer-data", "local").ok());
  Json in = {{"ModelPackageName", "mine"},
             {"SourceAlgorithmSpecification",
              {{"SourceAlgorithms",
                {{{"AlgorithmName", escrow_algo},
                  {"ModelDataUrl", "s3://buyer-data/out/model.tar.gz"}}}}}}};
  ASSERT_TRUE(service_->CreateModelPackage(kBuyer, in).ok());
  auto found = service_->Lookup("mine", kBuyer);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)["Containers"][0]["ImageAccount"], kEscrow);
  EXPECT_EQ((*found)["Containers"][0]["Image"], training_image);
  EXPECT_EQ((*found)["Containers"][0]["ModelDataAccount"], kBuyer);
  EXPECT_EQ((*found)["MarketplaceArns"][0], escrow_algo);
}

TEST_F(EscrowTest, PackageFromTheSellersOwnAlgorithmIsMaterialized) {
  ASSERT_TRUE(service_->CreateAlgorithm(kSeller, AlgorithmRequest("algo", false)).ok());
  Json in = {
      {"ModelPackageName", "trained"},
      {"CertifyForMarketplace", true},
      {"SourceAlgorithmSpecification",
       {{"SourceAlgorithms",
         {{{"AlgorithmName", "algo"}, {"ModelDataUrl", "s3://seller-data/model/model.tar.gz"}}}}}},
      {"ValidationSpecification",
       {{"ValidationRole", testing::kRole},
        {"ValidationProfiles",
         {{{"ProfileName", "p"}, {"TransformJobDefinition", TransformDefinition()}}}}}}};
  auto created = service_->CreateModelPackage(kSeller, in);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(Validate((*created)["ModelPackageArn"]), "Completed");
  auto escrowed =
      escrow_->Escrow(kSeller, (*created)["ModelPackageArn"].get<std::string>(), "trained-v1");
  ASSERT_TRUE(escrowed.ok()) << escrowed.status();
  const Json& spec = (*escrowed)["Spec"];
  EXPECT_FALSE(spec.contains("SourceAlgorithmSpecification"));
  EXPECT_EQ(spec["InferenceSpecification"]["SupportedContentTypes"][0], "text/csv");
  EXPECT_EQ(spec["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
            "s3://mercato-escrow/trained-v1/1/model.tar.gz");
  auto found = service_->Lookup((*escrowed)["Arn"].get<std::string>(), kBuyer);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE((*found)["MarketplaceArns"].empty());
  EXPECT_EQ((*found)["Containers"][0]["ImageAccount"], kEscrow);
}

}  // namespace
}  // namespace mercato::catalog
