#include "catalog/review_service.h"

#include "base/errors.h"
#include "catalog/product_test_fixture.h"
#include "fmt/format.h"
#include "gmock/gmock.h"

namespace mercato::catalog::testing {
namespace {

std::string Code(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

TEST_F(ProductsFixture, ReviewsOnePerSubscriberWithExactRating) {
  Product p = PublicProduct(Fields("reviewed"));
  auto not_sub = reviews_->Add(kBuyer, p.code, Json{{"Rating", 5}});
  EXPECT_EQ(Code(not_sub.status()), "NotSubscribed");
  Subscribe(kBuyer, p.id);
  Subscribe(kOther, p.id);
  EXPECT_EQ(Code(reviews_->Add(kBuyer, p.code, Json{{"Rating", 6}}).status()), "ValidationError");
  EXPECT_EQ(Code(reviews_->Add(kBuyer, p.code, Json{{"Rating", 0}}).status()), "ValidationError");
  EXPECT_EQ(Code(reviews_->Add(kBuyer, p.code, Json{{"Body", "no stars"}}).status()),
            "ValidationError");
  auto a = reviews_->Add(kBuyer, p.code, Json{{"Rating", 4}, {"Title", "Good"}, {"Body", "ok"}});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(Code(reviews_->Add(kBuyer, p.code, Json{{"Rating", 1}}).status()), "ReviewExists");
  auto b = reviews_->Add(kOther, p.id, Json{{"Rating", 5}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Code(reviews_->Add(kSeller, p.id, Json{{"Rating", 5}}).status()), "AccessDenied");

  auto rated = products_->Find(p.id);
  EXPECT_EQ(rated->rating_sum, 9);
  EXPECT_EQ(rated->rating_count, 2);

  // Only the author edits or deletes.
  EXPECT_EQ(Code(reviews_->Edit(kOther, p.id, a->id, Json{{"Rating", 1}}).status()),
            "AccessDenied");
  auto e = reviews_->Edit(kBuyer, p.id, a->id, Json{{"Rating", 2}});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->title, "Good");
  EXPECT_EQ(products_->Find(p.id)->rating_sum, 7);
  EXPECT_EQ(Code(reviews_->Delete(kOther, p.id, a->id)), "AccessDenied");
  ASSERT_TRUE(reviews_->Delete(kBuyer, p.id, a->id).ok());
  EXPECT_EQ(products_->Find(p.id)->rating_sum, 5);
  EXPECT_EQ(products_->Find(p.id)->rating_count, 1);
  EXPECT_EQ(reviews_->Delete(kBuyer, p.id, a->id).code(), absl::StatusCode::kNotFound);

  // One seller reply.
  EXPECT_EQ(Code(reviews_->Reply(kOther, p.id, b->id, "thanks").status()), "AccessDenied");
  auto r = reviews_->Reply(kSeller, p.id, b->id, "thanks!");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Code(reviews_->Reply(kSeller, p.id, b->id, "again").status()), "ReplyExists");

  auto list = reviews_->List(kBuyer, p.code, "", "");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["Reviews"].size(), 1u);
  EXPECT_EQ((*list)["Reviews"][0]["SellerReply"]["Body"], "thanks!");
  EXPECT_EQ((*list)["Rating"]["Count"], 1);
  EXPECT_EQ((*list)["Rating"]["Average"], 5.0);
  auto detail = catalog_->Detail(kBuyer, p.code, "");
  EXPECT_EQ((*detail)["RecentReviews"].size(), 1u);
}

TEST_F(ProductsFixture, ReviewListPages) {
  Product p = PublicProduct(Fields("many reviews"));
  for (int i = 0; i < 5; ++i) {
    std::string a = fmt::format("90000000000{}", i);
    Subscribe(a, p.id);
    ASSERT_TRUE(reviews_->Add(a, p.id, Json{{"Rating", 1 + i}}).ok());
    clock_.Advance(absl::Seconds(1));
  }
  std::vector<std::string> seen;
  std::string token;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = reviews_->List(kBuyer, p.id, "2", token);
    ASSERT_TRUE(page.ok());
    for (const Json& r : (*page)["Reviews"]) seen.push_back(r["ReviewId"]);
    if (!page->contains("NextToken")) break;
    token = (*page)["NextToken"];
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(products_->Find(p.id)->rating_sum, 15);
}

TEST_F(ProductsFixture, ReviewsOfInvisibleProductsAreNotFound) {
  auto draft = products_->Create(kSeller, Fields("draft"));
  Subscribe(kBuyer, draft->id);  // even a (stale) subscriber of a never-listed product
  EXPECT_EQ(reviews_->List(kOther, draft->id, "", "").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mercato::catalog::testing
