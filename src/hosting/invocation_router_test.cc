#include "hosting/invocation_router.h"

#include <future>

#include "hosting/testing/hosting_fixture.h"

namespace mercato::hosting::testing {
namespace {

class RouterTest : public HostingFixture {
 protected:
  void Deploy(const std::string& ep, const Json& variants) {
    Config(ep + "-c", variants);
    ASSERT_TRUE(
        service_
            ->CreateEndpoint(kAccount, {{"EndpointName", ep}, {"EndpointConfigName", ep + "-c"}})
            .ok());
    ASSERT_EQ(Reconcile(ep, "InService"), "InService");
  }
};

TEST_F(RouterTest, ForwardsBodyHeadersAndNamesTheVariant) {
  Model("m");
  Deploy("ep", Json::array({Variant("AllTraffic", "m")}));
  auto r = router_->Invoke(
      kAccount, "ep",
      {.content_type = "text/csv", .custom_attributes = "trace=1", .body = "1,2,3"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->variant, "AllTraffic");
  EXPECT_EQ(r->content_type, "text/csv");
  EXPECT_EQ(r->custom_attributes, "trace=1");
  EXPECT_EQ(r->body, r->instance_id + ":1,2,3");
  // The connection is pooled and reused.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(router_->Invoke(kAccount, "ep", {.body = "x"}).ok());
  EXPECT_NE(metrics_.RenderPrometheus().find("mercato_endpoint_invocations_total"),
            std::string::npos);
}

TEST_F(RouterTest, UnknownEndpointAndOtherAccountsAreValidationErrors) {
  Model("m");
  Deploy("ep", Json::array({Variant("A", "m")}));
  auto r = router_->Invoke(kAccount, "nope", {.body = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(AwsCodeOf(r.status()).value_or(""), "ValidationError");
  EXPECT_EQ(r.status().message(), "Endpoint nope of account 111122223333 not found.");
  auto other = router_->Invoke("999988887777", "ep", {.body = "x"});
  EXPECT_EQ(other.status().message(), "Endpoint ep of account 999988887777 not found.");
}

TEST_F(RouterTest, ContainerErrorsAreModelErrorsWithTheOriginalStatus) {
  Model("m", "error");
  Deploy("ep", Json::array({Variant("A", "m")}));
  auto r = router_->Invoke(kAccount, "ep", {.body = "x"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->model_error);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "bad input row");
}

TEST_F(RouterTest, SlowContainersTimeOutAsModelErrors) {
  router_timeout_ms_ = 200;
  MakeController();
  Model("m", "slow");
  Deploy("ep", Json::array({Variant("A", "m")}));
  auto r = router_->Invoke(kAccount, "ep", {.body = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(AwsCodeOf(r.status()).value_or(""), "ModelError");
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos);
}

TEST_F(RouterTest, TargetVariantIsHonoured) {
  Model("m1");
  Model("m2");
  Deploy("ep", Json::array({Variant("One", "m1", 1, 1.0), Variant("Two", "m2", 1, 0.0)}));
  for (int i = 0; i < 5; ++i) {
    auto r = router_->Invoke(kAccount, "ep", {.body = "x"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->variant, "One");  // weight 0 gets no traffic
    auto t = router_->Invoke(kAccount, "ep", {.target_variant = "Two", .body = "x"});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->variant, "Two");
  }
  auto bad = router_->Invoke(kAccount, "ep", {.target_variant = "Three", .body = "x"});
  EXPECT_EQ(AwsCodeOf(bad.status()).value_or(""), "ValidationError");
}

TEST_F(RouterTest, PicksTheInstanceWithFewestRequestsInFlight) {
  Model("m", "halfsec");
  Deploy("ep", Json::array({Variant("A", "m", 2)}));
  auto running = runtime_->Running();
  ASSERT_EQ(running.size(), 2u);
  auto first = std::async(std::launch::async,
                          [&] { return router_->Invoke(kAccount, "ep", {.body = "1"}); });
  // Wait (bounded) until the first request is inside a container.
  for (int i = 0; i < 500 && runtime_->Served(running[0]) + runtime_->Served(running[1]) == 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto second = router_->Invoke(kAccount, "ep", {.body = "2"});
  auto r1 = first.get();
  ASSERT_TRUE(r1.ok() && second.ok());
  EXPECT_NE(r1->instance_id, second->instance_id);
}

}  // namespace
}  // namespace mercato::hosting::testing
