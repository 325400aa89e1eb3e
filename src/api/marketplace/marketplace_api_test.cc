#include "api/marketplace/marketplace_api.h"

#include <map>

#include "api/marketplace/commerce_analytics_actions.h"
#include "auth/accounts.h"
#include "base/clock.h"
#include "base/errors.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::api::marketplace {
namespace {

class StringBody final : public http::BodyReader {
 public:
  explicit StringBody(std::string s) : s_(std::move(s)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, s_.size() - pos_);
    s_.copy(buf, k, pos_);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> content_length() const override { return s_.size(); }

 private:
  std::string s_;
  size_t pos_ = 0;
};

class MarketplaceApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    accounts_ = std::make_unique<auth::AccountService>(*store_, clock_, std::string(32, 'k'));
    authenticator_ = std::make_unique<auth::Authenticator>(*accounts_, clock_);
    auto seller = accounts_->CreateAccount("seller", false);
    auto buyer = accounts_->CreateAccount("buyer", false);
    ASSERT_TRUE(seller.ok() && buyer.ok());
    seller_ = *seller;
    buyer_ = *buyer;
    reports_ = std::make_unique<commerce::ReportService>(
        *store_, commerce::ReportOptions{.customer_key = "k"});
    commerce::PublisherOptions o;
    o.check_bucket = [this](std::string_view account, std::string_view bucket) {
      return account == seller_.account.id && bucket == "mine"
                 ? absl::OkStatus()
                 : AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied", "Access Denied");
    };
    o.put_object = [this](std::string_view, std::string_view bucket, std::string_view key,
                          std::string_view, std::string_view data) {
      objects_[std::string(bucket) + "/" + std::string(key)] = std::string(data);
      return absl::OkStatus();
    };
    publisher_ =
        std::make_unique<commerce::DataSetPublisher>(*store_, clock_, *reports_, std::move(o));
    api_ = std::make_unique<MarketplaceApi>(*authenticator_);
    AddCommerceAnalyticsActions(*api_, *publisher_, [this](std::string_view account) {
      return account == seller_.account.id
                 ? absl::OkStatus()
                 : absl::FailedPreconditionError("SellerNotRegistered: register first");
    });
  }

  http::Response Call(const std::string& token, const std::string& target, const Json& body) {
    http::Request r;
    r.method = "POST";
    r.target = r.raw_path = r.path = "/";
    r.headers = {{"host", "127.0.0.1"},
                 {"content-type", "application/x-amz-json-1.1"},
                 {"x-amz-target", target}};
    if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
    StringBody b(body.dump());
    return api_->Handle(r, b);
  }

  static std::string Type(const http::Response& r) {
    auto j = ParseJson(r.body);
    return j.ok() ? j->value("__type", "") : "";
  }

  Json Input(const std::string& bucket) {
    return {{"dataSetType", "daily_business_fees"},
            {"dataSetPublicationDate", 1793664000},  // 2026-11-03T00:00:00Z
            {"roleNameArn", "arn:aws:iam::1:role/r"},
            {"destinationS3BucketName", bucket},
            {"snsTopicArn", "arn:aws:sns:local:1:t"}};
  }

  ManualClock clock_{absl::Now()};
  MetadataStorePtr store_;
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  auth::NewAccountCredentials seller_, buyer_;
  std::unique_ptr<commerce::ReportService> reports_;
  std::unique_ptr<commerce::DataSetPublisher> publisher_;
  std::unique_ptr<MarketplaceApi> api_;
  std::map<std::string, std::string> objects_;
};

constexpr char kGenerate[] = "MarketplaceCommerceAnalytics20150701.GenerateDataSet";

TEST_F(MarketplaceApiTest, GenerateDataSetWritesIntoTheSellersBucket) {
  http::Response r = Call(seller_.token, kGenerate, Input("mine"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto out = ParseJson(r.body);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["dataSetRequestId"].get<std::string>().size(), 36u);
  EXPECT_EQ(objects_.count("mine/daily_business_fees_2026-11-03.csv"), 1u);
  EXPECT_EQ(objects_.count("mine/daily_business_fees_2026-11-03.meta.json"), 1u);
}

TEST_F(MarketplaceApiTest, ErrorsUseTheServiceException) {
  http::Response denied = Call(seller_.token, kGenerate, Input("theirs"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(Type(denied), "MarketplaceCommerceAnalyticsException");
  EXPECT_NE(denied.body.find("AccessDenied"), std::string::npos);
  EXPECT_TRUE(objects_.empty());

  Json bad = Input("mine");
  bad["dataSetType"] = "nope";
  http::Response invalid = Call(seller_.token, kGenerate, bad);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(Type(invalid), "MarketplaceCommerceAnalyticsException");

  http::Response not_seller = Call(buyer_.token, kGenerate, Input("mine"));
  EXPECT_EQ(not_seller.status, 403);
  EXPECT_NE(not_seller.body.find("SellerNotRegistered"), std::string::npos);

  http::Response unknown =
      Call(seller_.token, "MarketplaceCommerceAnalytics20150701.DescribeThings", Input("mine"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Type(unknown), "UnknownOperationException");

  http::Response anonymous = Call("", kGenerate, Input("mine"));
  EXPECT_EQ(anonymous.status, 403);
  EXPECT_EQ(Type(anonymous), "MissingAuthenticationTokenException");
  EXPECT_FALSE(anonymous.headers.empty());
}

}  // namespace
}  // namespace mercato::api::marketplace
