#include "commerce/subscription_service.h"

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "base/crypto.h"
#include "base/errors.h"
#include "commerce/notification_service.h"
#include "commerce/subscription_sweeper.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::commerce {
namespace {

constexpr char kBuyer[] = "111111111111";
constexpr char kOther[] = "222222222222";
constexpr char kSeller[] = "999999999999";

class SubscriptionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    notifications_ = std::make_unique<NotificationService>(*store_, clock_);
    AddProduct("prod-public", "pub-code", "Public", {});
    AddProduct("prod-draft", "draft-code", "Draft", {});
    AddProduct("prod-gone", "gone-code", "Restricted", {});
    AddProduct("prod-limited", "lim-code", "Limited", {kOther});
    products_["prod-limited"].test_accounts = {"333333333333"};
    products_["prod-public"].offer = {{"FreeTrialDays", 14}, {"Prices", {{"Hourly", 1.5}}}};
    Build(90);
  }

  void Build(int grace_days) {
    SubscriptionOptions o;
    o.product = [this](std::string_view key) -> absl::StatusOr<ProductInfo> {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, p] : products_) {
        if (id == key || p.product_code == key) return p;
      }
      return absl::NotFoundError("no such product");
    };
    o.notify = [this](std::string_view account, std::string_view type, std::string_view subject,
                      std::string_view message, const Json& data) {
      ASSERT_TRUE(notifications_->Notify(account, type, subject, message, data).ok());
    };
    o.stop_product_use = [this](std::string_view account, std::string_view product,
                                std::string_view reason) -> absl::Status {
      std::lock_guard<std::mutex> lock(mu_);
      stops_.push_back(std::string(account) + "/" + std::string(product) + ": " +
                       std::string(reason));
      return stop_result_;
    };
    o.removal_grace_days = grace_days;
    service_ = std::make_unique<SubscriptionService>(*store_, clock_, std::move(o));
  }

  void AddProduct(const std::string& id, const std::string& code, const std::string& visibility,
                  std::vector<std::string> allow) {
    products_[id] = ProductInfo{.product_id = id,
                                .product_code = code,
                                .title = "Title of " + id,
                                .seller_account = kSeller,
                                .visibility = visibility,
                                .allow_list = std::move(allow),
                                .eula = "EULA of " + id + "\nline 2"};
  }

  absl::StatusOr<Subscription> Subscribe(const std::string& account, const std::string& product,
                                         const std::string& ref = "") {
    return service_->Subscribe(account, {.product = product, .ref_tag = ref, .accept_eula = true});
  }

  std::vector<std::string> Types(const std::string& account) {
    std::vector<std::string> out;
    auto list = notifications_->List(account, false);
    EXPECT_TRUE(list.ok());
    for (auto it = list->rbegin(); it != list->rend(); ++it) out.push_back(it->type);
    return out;
  }

  std::string Code(const absl::Status& s) { return AwsCodeOf(s).value_or(""); }

  std::mutex mu_;
  ManualClock clock_{absl::FromUnixSeconds(1790000000)};  // 2026-09-21
  MetadataStorePtr store_;
  std::unique_ptr<NotificationService> notifications_;
  std::map<std::string, ProductInfo> products_;
  std::vector<std::string> stops_;
  absl::Status stop_result_ = absl::OkStatus();
  std::unique_ptr<SubscriptionService> service_;
};

TEST_F(SubscriptionServiceTest, SubscribesToPublicWithOfferEulaTrialAndRef) {
  auto s = Subscribe(kBuyer, "pub-code", "newsletter-7");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->status, "Active");
  EXPECT_EQ(s->product_id, "prod-public");
  EXPECT_EQ(s->ref_tag, "newsletter-7");
  EXPECT_EQ(s->offer["FreeTrialDays"], 14);
  EXPECT_EQ(s->eula_hash, Sha256Hex("EULA of prod-public\nline 2"));
  EXPECT_EQ(s->trial_end - s->trial_start, int64_t{14} * 24 * 3600 * 1000000);
  EXPECT_TRUE(service_->CheckEntitlement(kBuyer, "prod-public").ok());
  EXPECT_TRUE(service_->IsSubscriber(kBuyer, "prod-public"));
  Json j = SubscriptionJson(*s);
  EXPECT_EQ(j["Status"], "Active");
  EXPECT_TRUE(j["AccessEndsAt"].is_null());
  EXPECT_EQ(j["ProductCode"], "pub-code");
}

TEST_F(SubscriptionServiceTest, RefusesWithExactCodes) {
  auto draft = Subscribe(kBuyer, "prod-draft");
  EXPECT_EQ(draft.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(draft.status()), "ProductNotAvailable");

  auto gone = Subscribe(kBuyer, "gone-code");
  EXPECT_EQ(Code(gone.status()), "ProductRestricted");
  EXPECT_NE(gone.status().message().find(
                "has been removed from the marketplace and accepts no new subscriptions"),
            std::string::npos)
      << gone.status();

  auto limited = Subscribe(kBuyer, "prod-limited");
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(limited.status()), "NotAllowListed");
  EXPECT_TRUE(Subscribe(kOther, "prod-limited").ok());      // allow-listed
  EXPECT_TRUE(Subscribe("333333333333", "lim-code").ok());  // seller's test account

  auto missing = Subscribe(kBuyer, "nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Code(missing.status()), "ProductNotFound");

  auto no_eula = service_->Subscribe(kBuyer, {.product = "pub-code"});
  EXPECT_EQ(Code(no_eula.status()), "EulaNotAccepted");
  auto stale = service_->Subscribe(
      kBuyer, {.product = "pub-code", .accept_eula = true, .eula_hash = Sha256Hex("old")});
  EXPECT_EQ(Code(stale.status()), "EulaChanged");
  auto bad_ref = Subscribe(kBuyer, "pub-code", "bad ref!");
  EXPECT_EQ(Code(bad_ref.status()), "InvalidRefTag");
  EXPECT_TRUE(service_->List(kBuyer)->empty());
}

TEST_F(SubscriptionServiceTest, OneActivePerProductAndResubscribeAfterCancel) {
  auto first = Subscribe(kBuyer, "pub-code");
  ASSERT_TRUE(first.ok());
  auto again = Subscribe(kBuyer, "prod-public");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Code(again.status()), "AlreadySubscribed");

  clock_.Advance(absl::Hours(2));
  auto cancelled = service_->Unsubscribe(kBuyer, "pub-code");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status, "Cancelled");
  absl::Status denied = service_->CheckEntitlement(kBuyer, "prod-public");
  EXPECT_EQ(denied.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(denied.message().find("You are not subscribed to product pub-code"), std::string::npos)
      << denied;
  EXPECT_TRUE(service_->IsSubscriber(kBuyer, "prod-public"));  // held one
  EXPECT_EQ(Code(service_->Unsubscribe(kBuyer, "pub-code").status()), "SubscriptionNotFound");

  auto second = Subscribe(kBuyer, "pub-code");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->trial_end, 0);  // the free trial is granted once
  EXPECT_TRUE(service_->CheckEntitlement(kBuyer, "prod-public").ok());
  // Unsubscribe by subscription id too; another account cannot.
  EXPECT_EQ(Code(service_->Unsubscribe(kOther, second->id).status()), "SubscriptionNotFound");
  EXPECT_TRUE(service_->Unsubscribe(kBuyer, second->id).ok());
  auto list = service_->List(kBuyer);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(service_->Get(kBuyer, second->id)->status, "Cancelled");
  EXPECT_EQ(service_->Get(kOther, second->id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SubscriptionServiceTest, NeverSubscribedMessageNamesTheProduct) {
  absl::Status s = service_->CheckEntitlement(kBuyer, "prod-public");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("You are not subscribed to product pub-code (Title of prod-public)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("mercato subscribe pub-code"), std::string::npos);
  EXPECT_FALSE(service_->IsSubscriber(kBuyer, "prod-public"));
}

TEST_F(SubscriptionServiceTest, CanView) {
  EXPECT_TRUE(service_->CanView(kBuyer, "prod-public", false).ok());
  EXPECT_TRUE(service_->CanView(kSeller, "prod-draft", true).ok());
  EXPECT_EQ(service_->CanView(kBuyer, "prod-draft", false).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->CanView(kBuyer, "prod-limited", false).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->CanView(kOther, "prod-limited", false).ok());
  EXPECT_TRUE(service_->CanView("333333333333", "prod-limited", false).ok());
  // A restricted version: hidden from a new buyer, visible to a subscriber.
  EXPECT_EQ(service_->CanView(kBuyer, "prod-public", true).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(Subscribe(kBuyer, "pub-code").ok());
  EXPECT_TRUE(service_->CanView(kBuyer, "prod-public", true).ok());
  // A removed product stays visible to its subscribers during the grace period.
  products_["prod-public"].visibility = "Restricted";
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());
  EXPECT_TRUE(service_->CanView(kBuyer, "prod-public", false).ok());
  EXPECT_EQ(service_->CanView(kOther, "prod-public", false).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SubscriptionServiceTest, RemovalGraceTimeline) {
  auto buyer = Subscribe(kBuyer, "pub-code");
  ASSERT_TRUE(buyer.ok());
  auto cancelled = Subscribe(kOther, "pub-code");
  ASSERT_TRUE(cancelled.ok());
  ASSERT_TRUE(service_->Unsubscribe(kOther, "pub-code").ok());

  // Removal: the product is Restricted; new buyers are refused; the buyer keeps access.
  products_["prod-public"].visibility = "Restricted";
  absl::Time removed = clock_.Now();
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());  // idempotent
  EXPECT_EQ(Code(Subscribe("444444444444", "pub-code").status()), "ProductRestricted");
  EXPECT_TRUE(service_->CheckEntitlement(kBuyer, "prod-public").ok());
  EXPECT_EQ(Types(kBuyer), std::vector<std::string>{"product.removed"});
  EXPECT_TRUE(Types(kOther).empty());  // cancelled: nothing to tell
  auto notes = notifications_->List(kBuyer, false);
  const std::string end = "2026-12-20T";  // removed 2026-09-21 + 90 days
  EXPECT_NE((*notes)[0].message.find(end), std::string::npos) << (*notes)[0].message;
  EXPECT_EQ((*notes)[0].data["AccessEndsAt"].get<std::string>().substr(0, 11), end);
  EXPECT_EQ((*notes)[0].data["SubscriptionId"], buyer->id);
  EXPECT_EQ(service_->Get(kBuyer, buyer->id)->grace_ends_at,
            absl::ToUnixMicros(removed + absl::Hours(24 * 90)));

  // Day 86: nothing yet.
  clock_.Advance(absl::Hours(24 * 86));
  EXPECT_EQ(*service_->Sweep(), 0);
  // Day 87 (3 days before the end): the reminder, once.
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(*service_->Sweep(), 1);
  EXPECT_EQ(*service_->Sweep(), 0);
  EXPECT_EQ(Types(kBuyer),
            (std::vector<std::string>{"product.removed", "product.removal_reminder"}));
  EXPECT_TRUE(service_->CheckEntitlement(kBuyer, "prod-public").ok());

  // One second before the end: still entitled; at the end: refused even before a sweep.
  clock_.Advance(absl::Hours(24 * 3) - absl::Seconds(1));
  EXPECT_TRUE(service_->CheckEntitlement(kBuyer, "prod-public").ok());
  clock_.Advance(absl::Seconds(1));
  absl::Status ended = service_->CheckEntitlement(kBuyer, "prod-public");
  EXPECT_EQ(ended.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(ended.message().find(
                "Your access to product pub-code (Title of prod-public) ended on " + end),
            std::string::npos)
      << ended;

  // The sweep expires it, stops the buyer's use and notifies, once.
  EXPECT_GT(*service_->Sweep(), 0);
  EXPECT_EQ(*service_->Sweep(), 0);
  EXPECT_EQ(service_->Get(kBuyer, buyer->id)->status, "Expired");
  ASSERT_EQ(stops_.size(), 1u);
  EXPECT_EQ(stops_[0].substr(0, 25), std::string(kBuyer) + "/prod-public:");
  EXPECT_EQ(Types(kBuyer), (std::vector<std::string>{"product.removed", "product.removal_reminder",
                                                     "subscription.expired"}));
  EXPECT_NE(service_->CheckEntitlement(kBuyer, "prod-public").message().find("ended on " + end),
            std::string::npos);
  EXPECT_TRUE(service_->IsSubscriber(kBuyer, "prod-public"));
  EXPECT_EQ(service_->CanView(kBuyer, "prod-public", false).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SubscriptionServiceTest, JumpPastTheEndAndRetryStopping) {
  ASSERT_TRUE(Subscribe(kBuyer, "pub-code").ok());
  products_["prod-public"].visibility = "Restricted";
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());
  stop_result_ = absl::UnavailableError("hosting is down");
  clock_.Advance(absl::Hours(24 * 91));
  EXPECT_GT(*service_->Sweep(), 0);
  // No stale "ends in 3 days" reminder after the end: only the expiry notice.
  EXPECT_EQ(Types(kBuyer), (std::vector<std::string>{"product.removed", "subscription.expired"}));
  EXPECT_EQ(stops_.size(), 1u);
  // Stopping failed: the next sweep tries again, and stops trying once it worked.
  stop_result_ = absl::OkStatus();
  EXPECT_EQ(*service_->Sweep(), 1);
  EXPECT_EQ(stops_.size(), 2u);
  EXPECT_EQ(*service_->Sweep(), 0);
  EXPECT_EQ(stops_.size(), 2u);
  EXPECT_EQ(Types(kBuyer).size(), 2u);
}

TEST_F(SubscriptionServiceTest, SweepIsRestartSafe) {
  ASSERT_TRUE(Subscribe(kBuyer, "pub-code").ok());
  products_["prod-public"].visibility = "Restricted";
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());
  clock_.Advance(absl::Hours(24 * 88));
  EXPECT_EQ(*service_->Sweep(), 1);
  Build(90);  // a new service over the same store, as after a restart
  EXPECT_EQ(*service_->Sweep(), 0);
  clock_.Advance(absl::Hours(24 * 3));
  EXPECT_GT(*service_->Sweep(), 0);
  Build(90);
  EXPECT_EQ(*service_->Sweep(), 0);
  EXPECT_EQ(stops_.size(), 1u);
  EXPECT_EQ(Types(kBuyer).size(), 3u);
}

TEST_F(SubscriptionServiceTest, ShortGraceSkipsTheReminder) {
  Build(1);
  ASSERT_TRUE(Subscribe(kBuyer, "pub-code").ok());
  products_["prod-public"].visibility = "Restricted";
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());
  EXPECT_EQ(*service_->Sweep(), 0);
  clock_.Advance(absl::Hours(24));
  EXPECT_GT(*service_->Sweep(), 0);
  EXPECT_EQ(Types(kBuyer), (std::vector<std::string>{"product.removed", "subscription.expired"}));
}

TEST_F(SubscriptionServiceTest, UnsetCollaboratorsAreUnavailable) {
  SubscriptionService bare(*store_, clock_, {});
  EXPECT_EQ(bare.Subscribe(kBuyer, {.product = "x", .accept_eula = true}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(SubscriptionServiceTest, SweeperWakesOnDemand) {
  ASSERT_TRUE(Subscribe(kBuyer, "pub-code").ok());
  products_["prod-public"].visibility = "Restricted";
  ASSERT_TRUE(service_->OnProductRemoved("prod-public").ok());
  // A long interval: only Wake() can make it sweep within the test.
  SubscriptionSweeper sweeper(*service_, absl::Hours(1));
  sweeper.Start();
  clock_.Advance(absl::Hours(24 * 90));
  sweeper.Wake();
  for (int i = 0; i < 1000 && Types(kBuyer).size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sweeper.Stop();
  EXPECT_EQ(Types(kBuyer), (std::vector<std::string>{"product.removed", "subscription.expired"}));
}

}  // namespace
}  // namespace mercato::commerce
