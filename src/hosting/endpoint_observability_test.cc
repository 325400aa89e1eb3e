// Failover, draining, per-minute metrics and logs of endpoints (FakeRuntime, real sockets).
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "base/time_format.h"
#include "hosting/endpoint_logs.h"
#include "hosting/endpoint_metrics.h"
#include "hosting/instance_client.h"
#include "hosting/testing/hosting_fixture.h"
#include "sandbox/log_files.h"

namespace mercato::hosting::testing {
namespace {

class ObservabilityTest : public HostingFixture {
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

TEST_F(ObservabilityTest, RequestsGoToAnotherInstanceWhenOneDied) {
  Model("m");
  Deploy("ep", Json::array({Variant("A", "m", 2)}));
  // Warm both pooled connections, then crash one instance.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(router_->Invoke(kAccount, "ep", {.body = "x"}).ok());
  auto running = runtime_->Running();
  ASSERT_EQ(running.size(), 2u);
  runtime_->Crash(running[0]);
  for (int i = 0; i < 10; ++i) {
    auto r = router_->Invoke(kAccount, "ep", {.body = "x"});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->instance_id, running[1]);
  }
  // The controller replaces the dead one.
  for (int i = 0; i < 200 && runtime_->Running().size() < 2; ++i) {
    ASSERT_TRUE(controller_->ReconcileOnce().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(runtime_->Running().size(), 2u);
  EXPECT_EQ(Describe("ep")["EndpointStatus"], "InService");
}

TEST_F(ObservabilityTest, BlueGreenUpdateDrainsRequestsInFlight) {
  Model("m", "halfsec");
  Model("m2");
  Deploy("ep", Json::array({Variant("A", "m")}));
  auto old = runtime_->Running();
  ASSERT_EQ(old.size(), 1u);
  auto in_flight = std::async(std::launch::async,
                              [&] { return router_->Invoke(kAccount, "ep", {.body = "slow"}); });
  for (int i = 0; i < 500 && runtime_->Served(old[0]) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Config("ep-c2", Json::array({Variant("A", "m2")}));
  ASSERT_TRUE(
      service_->UpdateEndpoint(kAccount, {{"EndpointName", "ep"}, {"EndpointConfigName", "ep-c2"}})
          .ok());
  ASSERT_EQ(Reconcile("ep", "InService"), "InService");
  auto r = in_flight.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->model_error);
  EXPECT_EQ(r->instance_id, old[0]);
  EXPECT_EQ(Describe("ep")["EndpointConfigName"], "ep-c2");
  auto after = router_->Invoke(kAccount, "ep", {.body = "x"});
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->instance_id, old[0]);
}

TEST_F(ObservabilityTest, PerMinuteSeriesPerVariantAndInstance) {
  Model("ok");
  Model("bad", "error");
  Deploy("ep", Json::array({Variant("Good", "ok", 1, 1.0), Variant("Bad", "bad", 1, 0.0)}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(router_->Invoke(kAccount, "ep", {.body = "x"}).ok());
  ASSERT_TRUE(router_->Invoke(kAccount, "ep", {.target_variant = "Bad", .body = "x"}).ok());
  Json s = endpoint_metrics_.Series(kAccount, "ep", absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_EQ(s["Variants"].size(), 2u) << s.dump();
  for (const Json& v : s["Variants"]) {
    ASSERT_EQ(v["Datapoints"].size(), 1u) << s.dump();
    const Json& p = v["Datapoints"][0];
    if (v["VariantName"] == "Good") {
      EXPECT_EQ(p["Invocations"], 3);
      EXPECT_EQ(p["Invocation4XXErrors"], 0);
      EXPECT_EQ(p["ModelLatency"]["SampleCount"], 3);
      EXPECT_EQ(p["InvocationsPerInstance"].size(), 1u);
    } else {
      EXPECT_EQ(p["Invocations"], 1);
      EXPECT_EQ(p["Invocation4XXErrors"], 1);  // ModelError answers 424
    }
  }
  EXPECT_TRUE(
      endpoint_metrics_
          .Series(kAccount, "other", absl::InfinitePast(), absl::InfiniteFuture())["Variants"]
          .empty());
}

TEST_F(ObservabilityTest, SeriesKeepTheLastDayOnly) {
  ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  MetricsRegistry registry;
  EndpointMetrics m(registry, clock, absl::Hours(24));
  m.Record(kAccount, "ep", "A", "i-1", 200, 10, 5);
  clock.Advance(absl::Minutes(1));
  m.Record(kAccount, "ep", "A", "i-2", 500, -1, 5);
  Json s = m.Series(kAccount, "ep", absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_EQ(s["Variants"][0]["Datapoints"].size(), 2u);
  EXPECT_EQ(s["Variants"][0]["Datapoints"][1]["Invocation5XXErrors"], 1);
  EXPECT_EQ(s["Variants"][0]["Datapoints"][1]["ModelLatency"]["SampleCount"], 0);
  EXPECT_EQ(s["Variants"][0]["Datapoints"][0]["Timestamp"],
            FormatIso8601(absl::FromUnixSeconds(1'800'000'000 / 60 * 60)));
  clock.Advance(absl::Hours(25));
  s = m.Series(kAccount, "ep", absl::InfinitePast(), absl::InfiniteFuture());
  EXPECT_TRUE(s["Variants"][0]["Datapoints"].empty());
  EXPECT_NE(registry.RenderPrometheus().find("mercato_endpoint_invocation_5xx_errors_total"),
            std::string::npos);
}

TEST_F(ObservabilityTest, LogsMergeInstancesInTimeOrderWithACursor) {
  ManualClock clock(absl::FromUnixSeconds(1'800'000'000));
  std::string dir = (dir_ / "logs-instances").string();
  auto write = [&](const std::string& id, const std::string& variant, int started,
                   const std::vector<std::string>& lines) {
    ASSERT_TRUE(store_
                    ->Exec("INSERT INTO endpoint_instances (instance_id, account_id, "
                           "endpoint_name, variant_name, instance_type, started_at) VALUES (?, "
                           "?, 'ep', ?, 'ml.m5.large', ?)",
                           {id, std::string(kAccount), variant, int64_t{started}})
                    .ok());
    auto sink = sandbox::LogSink::Open(dir + "/" + id + "/logs", {}, clock);
    ASSERT_TRUE(sink.ok());
    for (const auto& l : lines) {
      clock.Advance(absl::Seconds(1));
      (*sink)->Append("stdout", l + "\n");
    }
  };
  write("i-1", "A", 1, {"one", "two"});
  clock.Advance(absl::Seconds(-2));  // interleaves with i-1's lines
  write("i-2", "A", 2, {"three", "four"});
  clock.Advance(absl::Seconds(10));
  EndpointLogs logs(*store_, clock, dir);
  auto r = logs.Read(kAccount, "ep", {});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)["events"].size(), 4u) << r->dump();
  std::vector<std::string> order;
  for (const auto& e : (*r)["events"]) order.push_back(e["message"]);
  EXPECT_EQ(order, (std::vector<std::string>{"one", "three", "two", "four"}));
  EXPECT_EQ((*r)["events"][1]["instance"], "i-2");
  EXPECT_EQ((*r)["events"][1]["stream"], "stdout");
  EXPECT_EQ((*r)["next_line"], 4);
  auto next = logs.Read(kAccount, "ep", {.since_line = 3});
  ASSERT_EQ((*next)["events"].size(), 1u);
  EXPECT_EQ((*next)["events"][0]["message"], "four");
  auto since = logs.ParseSince(FormatIso8601(absl::FromUnixSeconds(1'800'000'002)));
  ASSERT_TRUE(since.ok());
  auto recent = logs.Read(kAccount, "ep", {.since = *since});
  EXPECT_EQ((*recent)["events"].size(), 2u);
  auto ago = logs.ParseSince("600");
  ASSERT_TRUE(ago.ok());
  EXPECT_EQ(*ago, clock.Now() - absl::Minutes(10));
  EXPECT_FALSE(logs.ParseSince("yesterday").ok());
  // Another account sees nothing.
  auto other = logs.Read("999988887777", "ep", {});
  EXPECT_TRUE(absl::IsNotFound(other.status()));
}

TEST(InstanceClientTest, AConnectionClosedBeforeAnyByteIsNotAResponse) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::thread peer([fd = fds[1]] {
    char buf[4096];
    (void)!::read(fd, buf, sizeof(buf));  // the request, then hang up without answering
    ::close(fd);
  });
  auto r = RoundTrip(fds[0], "GET", "/ping", {}, "",
                     std::chrono::steady_clock::now() + std::chrono::seconds(10));
  peer.join();
  ::close(fds[0]);
  ASSERT_FALSE(r.ok()) << "status " << r->status;
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
}

TEST_F(ObservabilityTest, InstancesAreListedWithPidsForTheOperator) {
  Model("m");
  Deploy("ep", Json::array({Variant("A", "m", 2)}));
  Json list = controller_->Instances(kAccount, "ep", /*with_pids=*/false);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["VariantName"], "A");
  EXPECT_TRUE(list[0]["Healthy"].get<bool>());
  EXPECT_FALSE(list[0].contains("Pid"));
  EXPECT_TRUE(controller_->Instances(kAccount, "nope", false).is_null());
}

}  // namespace
}  // namespace mercato::hosting::testing
