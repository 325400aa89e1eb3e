// Shared fixture of the products tests: an in-memory SqliteStore, MemoryBlobStore, a
// ManualClock, the FTS5 index and the three services, with fakes for the other parts'
// options (registered sellers, a canned escrow, subscribers, removals, sample data copies).
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "blob/memory_blob_store.h"
#include "catalog/catalog_service.h"
#include "catalog/product_service.h"
#include "catalog/review_service.h"
#include "catalog/search_index_fts5.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::catalog::testing {

inline constexpr char kSeller[] = "111111111111";
inline constexpr char kBuyer[] = "222222222222";
inline constexpr char kOther[] = "333333333333";

class ProductsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto index = Fts5SearchIndex::Create(*store_);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
    ProductServiceOptions po;
    po.require_seller = [this](std::string_view a) -> absl::Status {
      if (sellers_.count(std::string(a))) return absl::OkStatus();
      return absl::FailedPreconditionError("register first: mercato seller register");
    };
    po.escrow = [this](std::string_view seller, std::string_view arn,
                       std::string_view name) -> absl::StatusOr<Json> {
      escrow_calls_.push_back(std::string(seller) + "|" + std::string(arn) + "|" +
                              std::string(name));
      if (arn.find("bad") != std::string_view::npos) {
        return absl::FailedPreconditionError("validation failed");
      }
      std::string kind =
          arn.find("algorithm") != std::string_view::npos ? "algorithm" : "model-package";
      return Json{{"Arn", "arn:aws:sagemaker:local:000000000000:" + kind + "/" + std::string(name)},
                  {"Kind", kind},
                  {"Spec",
                   {{"InferenceSpecification",
                     {{"Containers", {{{"Image", "secret-image"}, {"ModelDataUrl", "s3://x/y"}}}},
                      {"SupportedRealtimeInferenceInstanceTypes", {"ml.c5.xlarge"}}}}}},
                  {"ImageDigests", {"sha256:abc"}},
                  {"ModelDataDigests", {"sha256:def"}}};
    };
    po.on_removed = [this](std::string_view id) { removed_.push_back(std::string(id)); };
    po.on_offer_changed = [this](std::string_view id) {
      offer_changes_.push_back(std::string(id));
    };
    po.copy_sample_data = [](std::string_view seller, std::string_view uri,
                             std::string_view key) -> absl::StatusOr<Json> {
      if (uri.find("missing") != std::string_view::npos) {
        return absl::NotFoundError("NoSuchKey");
      }
      return Json{{"Bucket", "mercato-escrow"}, {"Key", std::string(key)}, {"Size", 42}};
    };
    po.console_base = "http://mercato.test";
    products_ = std::make_unique<ProductService>(*store_, blobs_, *index_, clock_, po);
    auto subs = [this](std::string_view a, std::string_view p) {
      return subscribers_.count(std::string(a) + "/" + std::string(p)) > 0;
    };
    catalog_ = std::make_unique<CatalogService>(*store_, blobs_, *index_, clock_,
                                                CatalogServiceOptions{subs, "http://mercato.test"});
    reviews_ = std::make_unique<ReviewService>(*store_, *catalog_, *index_, clock_,
                                               ReviewServiceOptions{subs});
    sellers_.insert(kSeller);
  }

  // A product with one version 1.0, made Public.
  Product PublicProduct(const Json& fields) {
    auto p = products_->Create(kSeller, fields);
    EXPECT_TRUE(p.ok()) << p.status();
    auto v = products_->AddVersion(
        kSeller, p->id, "arn:aws:sagemaker:local:111111111111:model-package/m", "1.0", "first");
    EXPECT_TRUE(v.ok()) << v.status();
    auto pub = products_->SetVisibility(kSeller, p->id, "Public", std::nullopt);
    EXPECT_TRUE(pub.ok()) << pub.status();
    return *pub;
  }

  void Subscribe(const std::string& account, const std::string& product_id) {
    subscribers_.insert(account + "/" + product_id);
  }

  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  MemoryBlobStore blobs_;
  MetadataStorePtr store_;
  SearchIndexPtr index_;
  std::unique_ptr<ProductService> products_;
  std::unique_ptr<CatalogService> catalog_;
  std::unique_ptr<ReviewService> reviews_;
  std::set<std::string> sellers_;
  std::set<std::string> subscribers_;
  std::vector<std::string> escrow_calls_;
  std::vector<std::string> removed_;
  std::vector<std::string> offer_changes_;  // on_offer_changed calls
};

inline Json Fields(const std::string& title, const std::string& desc = "a useful model") {
  return Json{{"Title", title}, {"ShortDescription", desc}};
}

}  // namespace mercato::catalog::testing
