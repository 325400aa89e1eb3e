#include "hosting/endpoint_controller.h"

#include "hosting/testing/hosting_fixture.h"

namespace mercato::hosting::testing {
namespace {

using ControllerTest = HostingFixture;

TEST_F(ControllerTest, CreatingBecomesInServiceWhenEveryInstancePings) {
  Model("m");
  Config("c", Json::array({Variant("AllTraffic", "m", 2)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  EXPECT_EQ(Describe("ep")["EndpointStatus"], "Creating");
  EXPECT_EQ(Reconcile("ep", "InService"), "InService");
  Json d = Describe("ep");
  EXPECT_EQ(d["ProductionVariants"][0]["CurrentInstanceCount"], 2);
  EXPECT_EQ(d["ProductionVariants"][0]["DeployedImages"][0]["SpecifiedImage"], "algo:1");
  ASSERT_EQ(runtime_->Running().size(), 2u);
  auto spec = runtime_->Started()[0];
  EXPECT_EQ(spec.entrypoint, "/usr/bin/server");
  EXPECT_EQ(spec.args, std::vector<std::string>{"serve"});
  EXPECT_EQ(spec.env["FROM_IMAGE"], "1");
  ASSERT_EQ(spec.mounts.size(), 1u);
  EXPECT_EQ(spec.mounts[0].container_path, "/opt/ml/model");
  EXPECT_TRUE(spec.mounts[0].read_only);
  EXPECT_EQ(spec.instance_type, "ml.m5.large");
}

TEST_F(ControllerTest, FailsWhenTheContainerExits) {
  Model("m", "exit");
  Config("c", Json::array({Variant("AllTraffic", "m")}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  EXPECT_EQ(Reconcile("ep", "Failed"), "Failed");
  std::string reason = Describe("ep")["FailureReason"];
  EXPECT_NE(reason.find("AllTraffic did not pass the ping health check"), std::string::npos)
      << reason;
  EXPECT_NE(reason.find("exited with code 1"), std::string::npos) << reason;
  EXPECT_TRUE(runtime_->Running().empty());
}

TEST_F(ControllerTest, FailsWhenPingNeverSucceedsWithinTheTimeout) {
  Model("m", "noping");
  Config("c", Json::array({Variant("AllTraffic", "m", 1, 1.0, /*timeout=*/1)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  EXPECT_EQ(Reconcile("ep", "Failed", 400), "Failed");
  std::string reason = Describe("ep")["FailureReason"];
  EXPECT_NE(reason.find("within 1 seconds"), std::string::npos) << reason;
  EXPECT_TRUE(runtime_->Running().empty());
}

TEST_F(ControllerTest, FailsWhenImageOrCapacityIsMissing) {
  Model("m1", "", "missing:1");
  Model("m2", "nostart");
  Config("c1", Json::array({Variant("A", "m1")}));
  Config("c2", Json::array({Variant("A", "m2")}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "e1"}, {"EndpointConfigName", "c1"}})
          .ok());
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "e2"}, {"EndpointConfigName", "c2"}})
          .ok());
  EXPECT_EQ(Reconcile("e1", "Failed"), "Failed");
  EXPECT_EQ(Reconcile("e2", "Failed"), "Failed");
  EXPECT_NE(Describe("e1")["FailureReason"].get<std::string>().find("could not be resolved"),
            std::string::npos);
  EXPECT_NE(Describe("e2")["FailureReason"].get<std::string>().find("does not fit"),
            std::string::npos);
}

TEST_F(ControllerTest, ReplacesACrashedInstanceAndStaysInService) {
  Model("m");
  Config("c", Json::array({Variant("AllTraffic", "m", 1)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  std::string first = runtime_->Running().at(0);
  runtime_->Crash(first);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(controller_->ReconcileOnce().ok());
    auto running = runtime_->Running();
    if (running.size() == 1 && running[0] != first &&
        Describe("ep")["ProductionVariants"][0]["CurrentInstanceCount"] == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto running = runtime_->Running();
  ASSERT_EQ(running.size(), 1u);
  EXPECT_NE(running[0], first);
  EXPECT_EQ(Describe("ep")["EndpointStatus"], "InService");
  auto r = router_->Invoke(kAccount, "ep", {.body = "x"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, running[0] + ":x");
}

TEST_F(ControllerTest, BlueGreenUpdateSwitchesTrafficThenStopsOldInstances) {
  Model("m1");
  Model("m2");
  Config("c1", Json::array({Variant("AllTraffic", "m1", 1)}));
  Config("c2", Json::array({Variant("AllTraffic", "m2", 2)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c1"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  std::string old = runtime_->Running().at(0);
  ASSERT_TRUE(
      service_->UpdateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c2"}})
          .ok());
  EXPECT_EQ(Describe("ep")["EndpointStatus"], "Updating");
  // Still served by the old instance while updating.
  auto r = router_->Invoke(kAccount, "ep", {.body = "x"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  Json d = Describe("ep");
  EXPECT_EQ(d["EndpointConfigName"], "c2");
  EXPECT_EQ(d["ProductionVariants"][0]["CurrentInstanceCount"], 2);
  auto running = runtime_->Running();
  EXPECT_EQ(running.size(), 2u);
  for (const auto& id : running) EXPECT_NE(id, old);
}

TEST_F(ControllerTest, FailedUpdateRollsBackToTheOldInstances) {
  Model("m1");
  Model("bad", "exit");
  Config("c1", Json::array({Variant("AllTraffic", "m1", 1)}));
  Config("c2", Json::array({Variant("AllTraffic", "bad", 1)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c1"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  std::string old = runtime_->Running().at(0);
  ASSERT_TRUE(
      service_->UpdateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c2"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  Json d = Describe("ep");
  EXPECT_EQ(d["EndpointConfigName"], "c1");
  EXPECT_NE(d.value("FailureReason", "").find("rolled back"), std::string::npos);
  EXPECT_EQ(runtime_->Running(), std::vector<std::string>{old});
}

TEST_F(ControllerTest, WeightsAndCapacitiesScaleInPlace) {
  Model("m");
  Config("c", Json::array({Variant("A", "m", 1)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  ASSERT_TRUE(
      service_
          ->UpdateEndpointWeightsAndCapacities(
              kAccount,
              {{"EndpointName", "ep"},
               {"DesiredWeightsAndCapacities",
                {{{"VariantName", "A"}, {"DesiredInstanceCount", 3}, {"DesiredWeight", 2.0}}}}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  Json v = Describe("ep")["ProductionVariants"][0];
  EXPECT_EQ(v["CurrentInstanceCount"], 3);
  EXPECT_EQ(v["DesiredWeight"], 2.0);
  EXPECT_EQ(runtime_->Running().size(), 3u);
}

TEST_F(ControllerTest, DeleteStopsInstancesAndRemovesTheRecord) {
  Model("m");
  Config("c", Json::array({Variant("A", "m", 2)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  ASSERT_TRUE(service_->DeleteEndpoint(kAccount, {{"EndpointName", "ep"}}).ok());
  EXPECT_EQ(Describe("ep").value("EndpointStatus", ""), "Deleting");
  ASSERT_TRUE(controller_->ReconcileOnce().ok());
  EXPECT_TRUE(runtime_->Running().empty());
  EXPECT_NE(Describe("ep").value("error", "").find("Could not find endpoint"), std::string::npos);
}

TEST_F(ControllerTest, EndpointsComeBackAfterARestartWithoutAnyCall) {
  Model("m");
  Config("c", Json::array({Variant("A", "m", 2)}));
  ASSERT_TRUE(
      service_->CreateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  // The process dies: controller and runtime (and its instances) are gone.
  router_.reset();
  controller_.reset();
  runtime_ =
      std::make_unique<FakeRuntime>([](const sandbox::InstanceSpec& s) { return Behave(s); });
  MakeController();
  controller_->Start();
  absl::StatusOr<InvokeResponse> r;
  for (int i = 0; i < 300; ++i) {
    r = router_->Invoke(kAccount, "ep", {.body = "x"});
    if (r.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Describe("ep")["EndpointStatus"], "InService");
  controller_->Stop();
}

}  // namespace
}  // namespace mercato::hosting::testing
