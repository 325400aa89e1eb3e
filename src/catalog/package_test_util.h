// Test fixtures for the packages part: an in-memory store, blob store, image registry and
// object store; small images pushed into accounts (one with a high-severity scan finding);
// and a fake ValidationBackend whose jobs end when the test says so. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/errors.h"
#include "blob/memory_blob_store.h"
#include "catalog/package_escrow.h"
#include "catalog/package_service.h"
#include "catalog/validation_runner.h"
#include "image/image_test_util.h"
#include "storage/object_store.h"
#include "store/sqlite_store.h"

namespace mercato::catalog::testing {

inline constexpr char kSeller[] = "111111111111";
inline constexpr char kBuyer[] = "222222222222";
inline constexpr char kEscrow[] = "999999999999";
inline constexpr char kRole[] = "arn:aws:iam::111111111111:role/validation";

// Jobs start InProgress; Settle() ends every running one with its planned outcome.
class FakeBackend : public ValidationBackend {
 public:
  absl::Status CreateTrainingJob(std::string_view account, const Json& req) override {
    std::lock_guard<std::mutex> l(mu_);
    training_requests.push_back(req);
    auto& job = training[Key(account, req["TrainingJobName"].get<std::string>())];
    if (job.is_null()) job = {{"TrainingJobStatus", "InProgress"}};
    return absl::OkStatus();
  }
  absl::StatusOr<Json> DescribeTrainingJob(std::string_view account,
                                           std::string_view name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = training.find(Key(account, name));
    if (it == training.end()) return absl::NotFoundError("no such training job");
    return it->second;
  }
  absl::Status CreateModel(std::string_view account, const Json& req) override {
    std::lock_guard<std::mutex> l(mu_);
    model_requests.push_back(req);
    models.insert(Key(account, req["ModelName"].get<std::string>()));
    return absl::OkStatus();
  }
  absl::Status DeleteModel(std::string_view account, std::string_view name) override {
    std::lock_guard<std::mutex> l(mu_);
    models.erase(Key(account, name));
    deleted_models.push_back(std::string(name));
    return absl::OkStatus();
  }
  absl::Status CreateTransformJob(std::string_view account, const Json& req) override {
    std::lock_guard<std::mutex> l(mu_);
    transform_requests.push_back(req);
    auto& job = transform[Key(account, req["TransformJobName"].get<std::string>())];
    if (job.is_null()) job = {{"TransformJobStatus", "InProgress"}};
    return absl::OkStatus();
  }
  absl::StatusOr<Json> DescribeTransformJob(std::string_view account,
                                            std::string_view name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = transform.find(Key(account, name));
    if (it == transform.end()) return absl::NotFoundError("no such transform job");
    return it->second;
  }
  // Ends running jobs: training as `training_outcome`, transform as `transform_outcome`.
  void Settle() {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [key, job] : training) {
      if (job["TrainingJobStatus"] != "InProgress") continue;
      job["TrainingJobStatus"] = training_outcome;
      if (training_outcome == "Completed") {
        job["ModelArtifacts"] = {{"S3ModelArtifacts", "s3://seller-data/out/model.tar.gz"}};
      } else {
        job["FailureReason"] = "AlgorithmError: boom";
      }
    }
    for (auto& [key, job] : transform) {
      if (job["TransformJobStatus"] != "InProgress") continue;
      job["TransformJobStatus"] = transform_outcome;
      if (transform_outcome != "Completed") job["FailureReason"] = "ClientError: bad input";
    }
  }

  std::string training_outcome = "Completed";
  std::string transform_outcome = "Completed";
  std::vector<Json> training_requests, model_requests, transform_requests;
  std::vector<std::string> deleted_models;
  std::map<std::string, Json> training, transform;
  std::set<std::string> models;

 private:
  static std::string Key(std::string_view a, std::string_view n) {
    return std::string(a) + "/" + std::string(n);
  }
  std::mutex mu_;
};

class PackagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto reg =
        ImageRegistry::Create(*store_, blobs_, clock_, {.registry_host = "mercato.local:8600"});
    ASSERT_TRUE(reg.ok()) << reg.status();
    images_ = std::move(*reg);
    objects_ = std::make_unique<storage::ObjectStore>(*store_, blobs_, clock_);
    PackageServiceOptions options;
    options.can_view = [this](std::string_view caller, std::string_view arn) {
      if (visible_.count(std::string(caller) + " " + std::string(arn))) return absl::OkStatus();
      return absl::PermissionDeniedError("not subscribed");
    };
    service_ = std::make_unique<PackageService>(*store_, *images_, clock_, options);
    validator_ = std::make_unique<PackageValidator>(*service_, backend_);
    escrow_ =
        std::make_unique<PackageEscrow>(*service_, *objects_, EscrowOptions{.account = kEscrow});
    ASSERT_TRUE(objects_->EnsureBucket(kSeller, "seller-data", "local").ok());
    ASSERT_TRUE(
        objects_->PutBytes(kSeller, "seller-data", "model/model.tar.gz", "", "weights").ok());
    clean_image_ = Push(kSeller, "algo:1", false);
  }

  // Pushes a one-layer image; `hostile` adds a private key (a HIGH scan finding).
  std::string Push(const std::string& account, const std::string& repo_tag, bool hostile) {
    std::vector<mercato::testing::TarEntry> entries = {
        {.path = "bin/serve", .data = "#!/bin/sh\necho " + repo_tag + "\n", .mode = 0755}};
    if (hostile) {
      entries.push_back({.path = "root/.ssh/id_rsa",
                         .data =
                             "-----BEGIN RSA PRIVATE KEY-----\n"
                             "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
                             "-----END RSA PRIVATE KEY-----\n",
                         .mode = 0600});
    }
    std::string layer = mercato::testing::MakeTar(entries, true);
    std::string path = dir_ / ("img" + std::to_string(n_++) + ".tar");
    mercato::testing::WriteFile(path, mercato::testing::MakeDockerArchive({.layers = {layer}}));
    auto pushed = images_->Push(account, path, repo_tag);
    EXPECT_TRUE(pushed.ok()) << pushed.status();
    return pushed.ok() ? pushed->image_uri : "";
  }

  Json TransformDefinition() {
    return {{"TransformInput",
             {{"DataSource",
               {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://seller-data/in/"}}}}},
              {"ContentType", "text/csv"}}},
            {"TransformOutput", {{"S3OutputPath", "s3://seller-data/val-out/"}}},
            {"TransformResources", {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}}}};
  }

  Json TrainingSpecification(const std::string& image) {
    return {{"TrainingImage", image},
            {"SupportedHyperParameters",
             {{{"Name", "max_depth"},
               {"Type", "Integer"},
               {"Range",
                {{"IntegerParameterRangeSpecification", {{"MinValue", "1"}, {"MaxValue", "10"}}}}},
               {"DefaultValue", "6"},
               {"IsTunable", true},
               {"IsRequired", false}},
              {{"Name", "objective"},
               {"Type", "Categorical"},
               {"Range",
                {{"CategoricalParameterRangeSpecification",
                  {{"Values", {"reg:squarederror", "binary:logistic"}}}}}}}}},
            {"SupportedTrainingInstanceTypes", {"ml.m5.large"}},
            {"SupportsDistributedTraining", false},
            {"MetricDefinitions", {{{"Name", "rmse"}, {"Regex", "rmse:([0-9.]+)"}}}},
            {"TrainingChannels",
             {{{"Name", "train"},
               {"SupportedContentTypes", {"text/csv"}},
               {"SupportedInputModes", {"File"}},
               {"IsRequired", true}}}}};
  }

  Json InferenceSpecification(const std::string& image, bool with_data) {
    Json c = {{"Image", image}, {"Environment", {{"MODE", "test"}}}};
    if (with_data) c["ModelDataUrl"] = "s3://seller-data/model/model.tar.gz";
    return {{"Containers", {c}},
            {"SupportedContentTypes", {"text/csv"}},
            {"SupportedResponseMIMETypes", {"text/csv"}},
            {"SupportedRealtimeInferenceInstanceTypes", {"ml.m5.large"}},
            {"SupportedTransformInstanceTypes", {"ml.m5.large"}}};
  }

  Json AlgorithmRequest(const std::string& name, bool validate) {
    Json in = {{"AlgorithmName", name},
               {"AlgorithmDescription", "gradient boosting"},
               {"TrainingSpecification", TrainingSpecification(clean_image_)},
               {"InferenceSpecification", InferenceSpecification(clean_image_, false)},
               {"CertifyForMarketplace", validate}};
    if (validate) {
      in["ValidationSpecification"] = {
          {"ValidationRole", kRole},
          {"ValidationProfiles",
           {{{"ProfileName", "basic"},
             {"TrainingJobDefinition",
              {{"TrainingInputMode", "File"},
               {"HyperParameters", {{"max_depth", "3"}}},
               {"InputDataConfig",
                {{{"ChannelName", "train"},
                  {"DataSource",
                   {{"S3DataSource",
                     {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://seller-data/train/"}}}}}}}},
               {"OutputDataConfig", {{"S3OutputPath", "s3://seller-data/out/"}}},
               {"ResourceConfig",
                {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 1}}},
               {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}}},
             {"TransformJobDefinition", TransformDefinition()}}}}};
    }
    return in;
  }

  Json PackageRequest(const std::string& name, const std::string& image, bool validate) {
    Json in = {{"ModelPackageName", name},
               {"ModelPackageDescription", "a trained model"},
               {"InferenceSpecification", InferenceSpecification(image, true)},
               {"CertifyForMarketplace", validate}};
    if (validate) {
      in["ValidationSpecification"] = {
          {"ValidationRole", kRole},
          {"ValidationProfiles",
           {{{"ProfileName", "batch"}, {"TransformJobDefinition", TransformDefinition()}}}}};
    }
    return in;
  }

  // Runs validation passes, settling the fake jobs in between, until `arn` is settled.
  std::string Validate(const std::string& arn) {
    for (int i = 0; i < 10; ++i) {
      EXPECT_TRUE(validator_->Step().ok());
      backend_.Settle();
      auto r = service_->Find("", arn, kSeller);
      if (!r.ok()) return "gone";
      if (r->status == kCompleted || r->status == kFailed) return r->status;
    }
    return "unsettled";
  }

  static std::string CodeOf(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

  mercato::testing::TempDir dir_;
  int n_ = 0;
  MemoryBlobStore blobs_;
  ManualClock clock_{absl::FromUnixSeconds(1800000000)};
  MetadataStorePtr store_;
  std::unique_ptr<ImageRegistry> images_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<PackageService> service_;
  FakeBackend backend_;
  std::unique_ptr<PackageValidator> validator_;
  std::unique_ptr<PackageEscrow> escrow_;
  std::set<std::string> visible_;  // "caller arn" pairs can_view allows
  std::string clean_image_;
};

}  // namespace mercato::catalog::testing
