#include "server/dispatcher.h"

#include "gtest/gtest.h"

namespace mercato::server {
namespace {

http::Request Make(std::string method, std::string target, http::Headers headers = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.raw_path = target.substr(0, q);
  r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  r.path = r.raw_path;
  r.headers = std::move(headers);
  return r;
}

std::string Authz(std::string service) {
  return "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261101/local/" + service +
         "/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
}

TEST(DispatcherTest, ClassifiesInDesignOrder) {
  EXPECT_EQ(Classify(Make("GET", "/bucket/key", {{"authorization", Authz("s3")}})), ApiKind::kS3);
  EXPECT_EQ(Classify(Make("GET",
                          "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                          "AKIAEXAMPLE%2F20261101%2Flocal%2Fs3%2Faws4_request")),
            ApiKind::kS3);
  EXPECT_EQ(Classify(Make("POST", "/",
                          {{"authorization", Authz("sagemaker")},
                           {"x-amz-target", "SageMaker.CreateModel"}})),
            ApiKind::kSageMaker);
  EXPECT_EQ(Classify(Make("POST", "/endpoints/my-ep/invocations",
                          {{"authorization", Authz("sagemaker")}})),
            ApiKind::kRuntime);
  EXPECT_EQ(Classify(Make("POST", "/", {{"x-amz-target", "AWSMPMeteringService.MeterUsage"}})),
            ApiKind::kMarketplace);
  EXPECT_EQ(Classify(Make("GET", "/api/v1/me", {{"authorization", "Bearer mct_x"}})),
            ApiKind::kNative);
  EXPECT_EQ(Classify(Make("GET", "/health")), ApiKind::kConsole);
  EXPECT_EQ(Classify(Make("GET", "/metrics")), ApiKind::kConsole);
  EXPECT_EQ(Classify(Make("GET", "/")), ApiKind::kConsole);
  EXPECT_EQ(Classify(Make("GET", "/nowhere")), ApiKind::kUnknown);
}

}  // namespace
}  // namespace mercato::server
