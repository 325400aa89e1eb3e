#include "catalog/product_service.h"

#include "base/crypto.h"
#include "base/errors.h"
#include "catalog/notebook.h"
#include "catalog/product_test_fixture.h"
#include "gmock/gmock.h"

namespace mercato::catalog::testing {
namespace {

using ::testing::HasSubstr;

std::string Code(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

constexpr char kModelArn[] = "arn:aws:sagemaker:local:111111111111:model-package/m";
constexpr char kAlgoArn[] = "arn:aws:sagemaker:local:111111111111:algorithm/a";

TEST_F(ProductsFixture, UnregisteredSellerCannotCreate) {
  auto p = products_->Create(kBuyer, Fields("x"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(p.status()), "SellerNotRegistered");
  EXPECT_THAT(p.status().message(), HasSubstr("mercato seller register"));
}

TEST_F(ProductsFixture, CreateAssignsIdsAndValidatesFields) {
  auto p = products_->Create(kSeller, Json{{"Title", "Churn"},
                                           {"ShortDescription", "predicts churn"},
                                           {"Categories", {"Finance", "Tabular"}},
                                           {"Highlights", {"fast"}},
                                           {"RecommendedInstanceTypes", {"ml.m5.large"}}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->id, ::testing::MatchesRegex("prod-[a-z0-9]{13}"));
  EXPECT_THAT(p->code, ::testing::MatchesRegex("[a-z0-9]{20}"));
  EXPECT_EQ(p->visibility, "Draft");
  auto d = products_->Describe(kSeller, p->id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["ProductUrl"], "http://mercato.test/console/products/" + p->code);
  EXPECT_EQ((*d)["Categories"].size(), 2u);

  EXPECT_EQ(Code(products_->Create(kSeller, Json{{"Title", "x"}}).status()), "ValidationError");
  EXPECT_EQ(
      Code(products_->Create(kSeller, Json{{"Title", "x"}, {"ShortDescription", "y"}, {"Bogus", 1}})
               .status()),
      "ValidationError");
  auto bad_type = products_->Create(
      kSeller,
      Json{{"Title", "x"}, {"ShortDescription", "y"}, {"RecommendedInstanceTypes", {"ml.nope"}}});
  EXPECT_THAT(bad_type.status().message(), HasSubstr("ml.nope"));
}

TEST_F(ProductsFixture, OnlyOwnerSeesItsProduct) {
  auto p = products_->Create(kSeller, Fields("mine"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(products_->Get(kOther, p->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(products_->Update(kOther, p->id, Fields("x")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(products_->Get(kSeller, "prod-doesnotexist1").status().code(),
            absl::StatusCode::kNotFound);
  auto list = products_->List(kSeller);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_TRUE(products_->List(kOther)->empty());
}

TEST_F(ProductsFixture, LogoNotebookAndSampleData) {
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "rest";
  Json nb = {{"nbformat", 4},
             {"nbformat_minor", 5},
             {"metadata", Json::object()},
             {"cells", {{{"cell_type", "markdown"}, {"source", "hi"}}}}};
  auto p = products_->Create(kSeller, Json{{"Title", "t"},
                                           {"ShortDescription", "s"},
                                           {"Logo", Base64Encode(png)},
                                           {"SampleNotebook", nb.dump()},
                                           {"SampleData", "s3://seller-bucket/data/sample.csv"}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->logo_type, "image/png");
  EXPECT_EQ(p->sample_data["Bucket"], "mercato-escrow");
  EXPECT_EQ(p->sample_data["Key"], p->id + "/sample-data/sample.csv");
  EXPECT_EQ(p->sample_data["Source"], "s3://seller-bucket/data/sample.csv");
  auto svg = products_->Update(kSeller, p->id, Json{{"Logo", Base64Encode("<svg xmlns='x'/>")}});
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_EQ(svg->logo_type, "image/svg+xml");

  auto bad_logo = products_->Update(kSeller, p->id, Json{{"Logo", Base64Encode("GIF89a")}});
  EXPECT_EQ(Code(bad_logo.status()), "InvalidLogo");
  auto big_logo = products_->Update(
      kSeller, p->id,
      Json{{"Logo", Base64Encode(std::string("\xFF\xD8\xFF") + std::string(600000, 'x'))}});
  EXPECT_EQ(Code(big_logo.status()), "InvalidLogo");
  EXPECT_EQ(Code(products_->Update(kSeller, p->id, Json{{"SampleNotebook", "{not json"}}).status()),
            "InvalidNotebook");
  EXPECT_EQ(Code(products_->Update(kSeller, p->id, Json{{"SampleData", "http://x/y"}}).status()),
            "ValidationError");
  EXPECT_EQ(
      products_->Update(kSeller, p->id, Json{{"SampleData", "s3://b/missing"}}).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(NotebookTest, Validation) {
  EXPECT_TRUE(ValidateNotebook(R"({"nbformat": 4, "cells": []})").ok());
  EXPECT_THAT(ValidateNotebook(R"({"nbformat": 3, "cells": []})").message(),
              HasSubstr("nbformat 3"));
  EXPECT_THAT(ValidateNotebook(R"({"nbformat": 4})").message(), HasSubstr("cells"));
  EXPECT_THAT(ValidateNotebook(R"([1])").message(), HasSubstr("object"));
  EXPECT_THAT(ValidateNotebook(R"({"nbformat": 4, "cells": [{}]})").message(), HasSubstr("cell 0"));
}

TEST_F(ProductsFixture, VersionsAreEscrowedUniqueAndOfOneKind) {
  auto p = products_->Create(kSeller, Fields("v"));
  ASSERT_TRUE(p.ok());
  auto v = products_->AddVersion(kSeller, p->id, kModelArn, "1.0", "first release");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(escrow_calls_.size(), 1u);
  EXPECT_EQ(escrow_calls_[0], std::string(kSeller) + "|" + kModelArn + "|" + p->code + "-v1-0");
  EXPECT_EQ(v->escrowed_arn,
            "arn:aws:sagemaker:local:000000000000:model-package/" + p->code + "-v1-0");
  EXPECT_EQ(products_->Get(kSeller, p->id)->kind, "model-package");

  auto dup = products_->AddVersion(kSeller, p->id, kModelArn, "1.0", "again");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(escrow_calls_.size(), 1u);  // no orphan escrow
  auto kind = products_->AddVersion(kSeller, p->id, kAlgoArn, "2.0", "");
  EXPECT_EQ(kind.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(kind.status().message(), HasSubstr("same kind"));
  EXPECT_EQ(Code(products_->AddVersion(kSeller, p->id, kModelArn, "1..1", "").status()),
            "ValidationError");
  EXPECT_EQ(Code(products_->AddVersion(kSeller, p->id, kModelArn, "", "").status()),
            "ValidationError");
  auto failed = products_->AddVersion(kSeller, p->id, "arn:bad", "3.0", "");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(products_->AddVersion(kOther, p->id, kModelArn, "9", "").status().code(),
            absl::StatusCode::kNotFound);

  auto found = products_->VersionByArn(v->escrowed_arn);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->first.id, p->id);
  EXPECT_EQ(found->second.version, "1.0");
  EXPECT_EQ(products_->VersionByArn("arn:none").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(products_->Find(p->code)->id, p->id);
}

TEST_F(ProductsFixture, RestrictAndUnrestrictVersions) {
  auto p = products_->Create(kSeller, Fields("r"));
  ASSERT_TRUE(products_->AddVersion(kSeller, p->id, kModelArn, "1.0", "").ok());
  ASSERT_TRUE(products_->AddVersion(kSeller, p->id, kModelArn, "1.1", "").ok());
  ASSERT_TRUE(products_->SetVisibility(kSeller, p->id, "Public", std::nullopt).ok());
  clock_.Advance(absl::Hours(1));
  auto r = products_->SetVersionRestricted(kSeller, p->id, "1.0", true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->restricted);
  EXPECT_EQ(r->restricted_at, absl::ToUnixMicros(clock_.Now()));
  // The last open version of a listed product cannot be restricted.
  EXPECT_EQ(products_->SetVersionRestricted(kSeller, p->id, "1.1", true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(products_->SetVersionRestricted(kSeller, p->id, "7.0", true).status().code(),
            absl::StatusCode::kNotFound);
  auto u = products_->SetVersionRestricted(kSeller, p->id, "1.0", false);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->restricted);
  EXPECT_EQ(u->restricted_at, 0);
}

TEST_F(ProductsFixture, VisibilityRules) {
  auto p = products_->Create(kSeller, Fields("vis"));
  auto no_version = products_->SetVisibility(kSeller, p->id, "Public", std::nullopt);
  EXPECT_EQ(no_version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_version.status().message(), HasSubstr("add-version"));
  ASSERT_TRUE(products_->AddVersion(kSeller, p->id, kModelArn, "1.0", "").ok());
  EXPECT_EQ(Code(products_->SetVisibility(kSeller, p->id, "Restricted", std::nullopt).status()),
            "ValidationError");
  EXPECT_EQ(Code(products_->SetVisibility(kSeller, p->id, "Limited", std::vector<std::string>{"12"})
                     .status()),
            "ValidationError");
  auto lim =
      products_->SetVisibility(kSeller, p->id, "Limited", std::vector<std::string>{kBuyer, kBuyer});
  ASSERT_TRUE(lim.ok()) << lim.status();
  EXPECT_EQ(lim->allow_list, std::vector<std::string>{kBuyer});
  EXPECT_GT(lim->published_at, 0);
  EXPECT_TRUE(catalog_->Visible(kBuyer, p->id).ok());
  EXPECT_FALSE(catalog_->Visible(kOther, p->id).ok());
  ASSERT_TRUE(products_->SetOffer(kSeller, p->id, Json{{"TestAccounts", {kOther}}}).ok());
  EXPECT_TRUE(catalog_->Visible(kOther, p->id).ok());
  ASSERT_TRUE(products_->SetVisibility(kSeller, p->id, "Public", std::nullopt).ok());
  EXPECT_TRUE(catalog_->Visible("444444444444", p->id).ok());
}

TEST_F(ProductsFixture, RemoveRestrictsAndNotifies) {
  Product p = PublicProduct(Fields("gone"));
  clock_.Advance(absl::Hours(2));
  auto r = products_->Remove(kSeller, p.id);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->visibility, "Restricted");
  EXPECT_EQ(r->removed_at, absl::ToUnixMicros(clock_.Now()));
  EXPECT_EQ(removed_, std::vector<std::string>{p.id});
  EXPECT_EQ(Code(products_->Remove(kSeller, p.id).status()), "InvalidState");
  EXPECT_EQ(Code(products_->Update(kSeller, p.id, Fields("x")).status()), "InvalidState");
  EXPECT_EQ(Code(products_->SetVisibility(kSeller, p.id, "Public", std::nullopt).status()),
            "InvalidState");
  EXPECT_EQ(Code(products_->AddVersion(kSeller, p.id, kModelArn, "2.0", "").status()),
            "InvalidState");
  // Hidden from new buyers, still visible to its seller and an existing subscriber.
  EXPECT_EQ(catalog_->Visible(kBuyer, p.code).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(catalog_->Visible(kSeller, p.code).ok());
  Subscribe(kBuyer, p.id);
  EXPECT_TRUE(catalog_->Visible(kBuyer, p.code).ok());
}

TEST_F(ProductsFixture, OfferIsValidatedAndIndexed) {
  Product p = PublicProduct(Fields("paid one"));
  auto o = products_->SetOffer(
      kSeller, p.id,
      Json{{"Pricing", {{"Endpoint", {{"ml.m5.large", "0.50"}}}, {"PerInference", "0.001"}}},
           {"FreeTrialDays", 7}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->is_free);
  EXPECT_EQ(o->free_trial_days, 7);
  EXPECT_EQ(o->offer["PricingMicros"]["Endpoint"]["ml.m5.large"], 500000);
  EXPECT_EQ(o->offer["Pricing"]["PerInference"], "0.001000");
  EXPECT_EQ(offer_changes_, std::vector<std::string>{p.id});  // billing hears of it
  EXPECT_EQ(
      Code(
          products_->SetOffer(kSeller, p.id, Json{{"Pricing", {{"PerInference", "-1"}}}}).status()),
      "ValidationError");
  EXPECT_EQ(
      Code(products_->SetOffer(kSeller, p.id, Json{{"Pricing", {{"PerInference", 0.5}}}}).status()),
      "ValidationError");
  EXPECT_EQ(products_->SetOffer(kOther, p.id, Json::object()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(offer_changes_.size(), 1u);  // refused offers change nothing
}

TEST_F(ProductsFixture, BuyerDetailHidesLocationsAndRestrictedVersions) {
  Product p = PublicProduct(Fields("detail"));
  ASSERT_TRUE(products_->AddVersion(kSeller, p.id, kModelArn, "1.1", "second").ok());
  ASSERT_TRUE(products_->SetVersionRestricted(kSeller, p.id, "1.0", true).ok());
  auto d = catalog_->Detail(kBuyer, p.code, "");
  ASSERT_TRUE(d.ok()) << d.status();
  std::string text = d->dump();
  EXPECT_EQ(text.find("secret-image"), std::string::npos);
  EXPECT_EQ(text.find("s3://x/y"), std::string::npos);
  EXPECT_EQ(text.find("SourceArn"), std::string::npos);
  ASSERT_EQ((*d)["Versions"].size(), 1u);
  EXPECT_EQ((*d)["Versions"][0]["Version"], "1.1");
  EXPECT_EQ((*d)["Versions"][0]["ReleaseNotes"], "second");
  EXPECT_EQ((*d)["Versions"][0]["Specification"]["InferenceSpecification"]
                ["SupportedRealtimeInferenceInstanceTypes"][0],
            "ml.c5.xlarge");
  auto mine = catalog_->Detail(kSeller, p.code, "");
  EXPECT_EQ((*mine)["Versions"].size(), 2u);
}

TEST_F(ProductsFixture, RefVisitsAreRecorded) {
  Product p = PublicProduct(Fields("visited"));
  ASSERT_TRUE(catalog_->Detail(kBuyer, p.code, "newsletter").ok());
  ASSERT_TRUE(catalog_->Detail("", p.code, "ad-1").ok());
  ASSERT_TRUE(catalog_->Detail(kBuyer, p.code, "").ok());
  EXPECT_EQ(Code(catalog_->Detail(kBuyer, p.code, "bad tag!").status()), "ValidationError");
  auto rows = store_->Query(
      "SELECT product_id, ref_tag, visitor_account, visited_at FROM product_visits ORDER BY "
      "ref_tag");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(1), "ad-1");
  EXPECT_EQ((*rows)[0].Text(2), "");
  EXPECT_EQ((*rows)[1].Text(0), p.id);
  EXPECT_EQ((*rows)[1].Text(2), kBuyer);
  EXPECT_EQ((*rows)[1].Int(3), absl::ToUnixMicros(clock_.Now()));
}

TEST_F(ProductsFixture, DraftIsNotInTheCatalog) {
  auto p = products_->Create(kSeller, Fields("draft"));
  EXPECT_EQ(catalog_->Detail(kBuyer, p->code, "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(catalog_->Detail(kSeller, p->code, "").ok());
}

}  // namespace
}  // namespace mercato::catalog::testing
