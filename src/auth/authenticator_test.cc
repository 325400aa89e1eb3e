#include "auth/authenticator.h"

#include <string>

#include "base/crypto.h"
#include "base/errors.h"
#include "gtest/gtest.h"
#include "http/sigv4.h"
#include "store/sqlite_store.h"

namespace mercato::auth {
namespace {

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    accounts_ = std::make_unique<AccountService>(*store_, clock_, std::string(32, 'k'));
    authenticator_ = std::make_unique<Authenticator>(*accounts_, clock_);
    auto creds = accounts_->CreateAccount("alice", false);
    ASSERT_TRUE(creds.ok()) << creds.status();
    creds_ = *creds;
  }

  static http::Request Post(std::string target) {
    http::Request r;
    r.method = "POST";
    r.target = target;
    auto q = target.find('?');
    r.raw_path = target.substr(0, q);
    r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
    r.path = http::PercentDecode(r.raw_path);
    r.headers = {{"host", "127.0.0.1:8600"},
                 {"content-type", "application/x-amz-json-1.1"},
                 {"x-amz-target", "SageMaker.ListModels"}};
    return r;
  }

  // A SageMaker-style JSON call: signed over the body hash, no x-amz-content-sha256.
  http::Request SignedSageMaker(std::string_view body, std::string_view key_id,
                                std::string_view secret) {
    http::Request r = Post("/");
    http::SignRequest(r, key_id, secret, "local", "sagemaker", Sha256Hex(body), clock_.Now());
    return r;
  }

  absl::StatusOr<Authenticated> Auth(const http::Request& r, std::optional<std::string> body_hash) {
    std::optional<std::string_view> view;
    if (body_hash) view = *body_hash;
    return authenticator_->Authenticate(r, view);
  }

  MetadataStorePtr store_;
  ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<AccountService> accounts_;
  std::unique_ptr<Authenticator> authenticator_;
  NewAccountCredentials creds_;
};

TEST_F(AuthenticatorTest, BearerToken) {
  http::Request r = Post("/api/v1/accounts");
  r.headers.emplace_back("authorization", "Bearer " + creds_.token);
  auto a = Auth(r, std::nullopt);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->principal.account_id, creds_.account.id);
  EXPECT_FALSE(a->sigv4.has_value());

  http::Request bad = Post("/api/v1/accounts");
  bad.headers.emplace_back("authorization", "Bearer mct_0000");
  auto b = Auth(bad, std::nullopt);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(AwsCodeOf(b.status()), "InvalidClientTokenId");
}

TEST_F(AuthenticatorTest, SignedRequestWithBodyHash) {
  const std::string body = R"({"MaxResults": 10})";
  http::Request r =
      SignedSageMaker(body, creds_.access_key.key.id, creds_.access_key.secret_access_key);
  auto a = Auth(r, Sha256Hex(body));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->principal.account_id, creds_.account.id);
  EXPECT_EQ(a->principal.access_key_id, creds_.access_key.key.id);
  ASSERT_TRUE(a->sigv4.has_value());
  EXPECT_EQ(a->sigv4->service, "sagemaker");
  EXPECT_EQ(a->signing_key, http::DeriveSigningKey(creds_.access_key.secret_access_key,
                                                   a->sigv4->scope_date, "local", "sagemaker"));

  // A different body than the one signed fails.
  auto tampered = Auth(r, Sha256Hex("{}"));
  EXPECT_EQ(AwsCodeOf(tampered.status()), "SignatureDoesNotMatch");
  // Without a body hash and without x-amz-content-sha256 nothing can be verified.
  auto unknown_payload = Auth(r, std::nullopt);
  EXPECT_EQ(unknown_payload.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, S3StyleUnsignedPayload) {
  http::Request r;
  r.method = "PUT";
  r.target = r.raw_path = r.path = "/bucket/key";
  r.headers = {{"host", "127.0.0.1:8600"}};
  http::SignRequest(r, creds_.access_key.key.id, creds_.access_key.secret_access_key, "local", "s3",
                    http::kUnsignedPayload, clock_.Now());
  // Streaming callers pass no body hash; buffering callers pass one. Both verify.
  auto streamed = Auth(r, std::nullopt);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_EQ(streamed->sigv4->content_sha256, http::kUnsignedPayload);
  EXPECT_TRUE(Auth(r, Sha256Hex("data")).ok());
}

TEST_F(AuthenticatorTest, S3StyleHashMismatch) {
  http::Request r;
  r.method = "PUT";
  r.target = r.raw_path = r.path = "/bucket/key";
  r.headers = {{"host", "127.0.0.1:8600"}};
  http::SignRequest(r, creds_.access_key.key.id, creds_.access_key.secret_access_key, "local", "s3",
                    Sha256Hex("claimed"), clock_.Now());
  EXPECT_TRUE(Auth(r, Sha256Hex("claimed")).ok());
  EXPECT_EQ(AwsCodeOf(Auth(r, Sha256Hex("actual")).status()), "XAmzContentSHA256Mismatch");
}

TEST_F(AuthenticatorTest, WrongSecret) {
  http::Request r = SignedSageMaker("{}", creds_.access_key.key.id, "not-the-secret");
  auto a = Auth(r, Sha256Hex("{}"));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AwsCodeOf(a.status()), "SignatureDoesNotMatch");
}

TEST_F(AuthenticatorTest, UnknownAndRevokedKeys) {
  http::Request r = SignedSageMaker("{}", "AKIAUNKNOWNKEY000000", "secret");
  auto a = Auth(r, Sha256Hex("{}"));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AwsCodeOf(a.status()), "InvalidAccessKeyId");
  EXPECT_EQ(a.status().message(),
            "The AWS Access Key Id you provided does not exist in our records.");

  http::Request ok =
      SignedSageMaker("{}", creds_.access_key.key.id, creds_.access_key.secret_access_key);
  ASSERT_TRUE(Auth(ok, Sha256Hex("{}")).ok());
  ASSERT_TRUE(accounts_->RevokeAccessKey(creds_.account.id, creds_.access_key.key.id).ok());
  EXPECT_EQ(AwsCodeOf(Auth(ok, Sha256Hex("{}")).status()), "InvalidAccessKeyId");
}

TEST_F(AuthenticatorTest, NoCredentials) {
  auto a = Auth(Post("/"), std::nullopt);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(AwsCodeOf(a.status()), "MissingAuthenticationToken");
  EXPECT_EQ(a.status().message(), "Request is missing Authentication Token");
}

TEST_F(AuthenticatorTest, ClockSkew) {
  http::Request r =
      SignedSageMaker("{}", creds_.access_key.key.id, creds_.access_key.secret_access_key);
  clock_.Advance(absl::Minutes(20));
  EXPECT_EQ(AwsCodeOf(Auth(r, Sha256Hex("{}")).status()), "RequestTimeTooSkewed");
}

}  // namespace
}  // namespace mercato::auth
