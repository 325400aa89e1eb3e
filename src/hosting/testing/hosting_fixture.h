// Test fixture shared by the hosting tests: an in-memory store and blob store, a FakeRuntime,
// a fixed ImageResolver, the HostingService, an EndpointController and an InvocationRouter.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/errors.h"
#include "base/metrics.h"
#include "blob/memory_blob_store.h"
#include "hosting/endpoint_controller.h"
#include "hosting/hosting_service.h"
#include "hosting/invocation_router.h"
#include "hosting/testing/fake_runtime.h"
#include "store/sqlite_store.h"

namespace mercato::hosting::testing {

class FixedResolver final : public ImageResolver {
 public:
  explicit FixedResolver(std::string rootfs) : rootfs_(std::move(rootfs)) {}
  absl::StatusOr<ResolvedImage> Resolve(std::string_view, std::string_view ref) override {
    if (ref.rfind("missing", 0) == 0) return absl::NotFoundError("no such image");
    ResolvedImage r;
    r.digest = "sha256:0123";
    r.image_uri = std::string(ref) + "@sha256:0123";
    r.rootfs = rootfs_;
    r.entrypoint = {"/usr/bin/server"};
    r.env = {"PATH=/usr/bin", "FROM_IMAGE=1"};
    return r;
  }

 private:
  std::string rootfs_;
};

inline constexpr char kAccount[] = "111122223333";

class HostingFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hosting_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "rootfs");
    store_ = *SqliteStore::Open({.path = ":memory:"});
    blobs_ = std::make_unique<MemoryBlobStore>();
    resolver_ = std::make_unique<FixedResolver>((dir_ / "rootfs").string());
    fetcher_ = std::make_unique<ModelDataFetcher>(*store_, *blobs_);
    service_ = std::make_unique<HostingService>(*store_, clock_, HostingOptions{});
    runtime_ =
        std::make_unique<FakeRuntime>([this](const sandbox::InstanceSpec& s) { return Behave(s); });
    MakeController();
  }
  void TearDown() override {
    router_.reset();
    controller_.reset();
    runtime_.reset();
    std::filesystem::remove_all(dir_);
  }

  void MakeController() {
    router_.reset();
    controller_ = std::make_unique<EndpointController>(
        *store_, *runtime_, *resolver_, *fetcher_, clock_,
        ControllerOptions{.instances_dir = (dir_ / "instances").string(),
                          .ping_timeout = absl::Milliseconds(500),
                          .stop_grace = absl::Milliseconds(100)});
    service_->set_runtime_view(controller_.get());
    router_ = std::make_unique<InvocationRouter>(
        *controller_, *runtime_, *store_, endpoint_metrics_,
        RouterOptions{.invocation_timeout = absl::Milliseconds(router_timeout_ms_)});
  }

  // Behaviour by the FAKE_MODE environment variable of the model's container.
  static FakeBehavior Behave(const sandbox::InstanceSpec& s) {
    FakeBehavior b;
    auto it = s.env.find("FAKE_MODE");
    std::string mode = it == s.env.end() ? "" : it->second;
    if (mode == "exit") b.exit_at_start = true;
    if (mode == "noping") b.ping_ok = false;
    if (mode == "nostart") b.start_fails = true;
    if (mode == "error") {
      b.invocation_status = 400;
      b.respond = [](const std::string&) { return std::string("bad input row"); };
    }
    if (mode == "slow") b.delay_ms = 3000;
    if (mode == "halfsec") b.delay_ms = 500;
    return b;
  }

  void Model(const std::string& name, const std::string& mode = "",
             const std::string& image = "algo:1") {
    Json c = {{"Image", image}};
    if (!mode.empty()) c["Environment"] = {{"FAKE_MODE", mode}};
    ASSERT_TRUE(
        service_->CreateModel(kAccount, {{"ModelName", name}, {"PrimaryContainer", c}}).ok());
  }
  // variants: {name, model, count, weight}
  void Config(const std::string& name, const Json& variants) {
    auto r = service_->CreateEndpointConfig(
        kAccount, {{"EndpointConfigName", name}, {"ProductionVariants", variants}});
    ASSERT_TRUE(r.ok()) << r.status();
  }
  static Json Variant(const std::string& name, const std::string& model, int count = 1,
                      double weight = 1.0, int timeout = 0) {
    Json v = {{"VariantName", name},
              {"ModelName", model},
              {"InitialInstanceCount", count},
              {"InstanceType", "ml.m5.large"},
              {"InitialVariantWeight", weight}};
    if (timeout > 0) v["ContainerStartupHealthCheckTimeoutInSeconds"] = timeout;
    return v;
  }
  Json Describe(const std::string& endpoint) {
    auto r = service_->DescribeEndpoint(kAccount, {{"EndpointName", endpoint}});
    return r.ok() ? *r : Json{{"error", std::string(r.status().message())}};
  }
  // Runs reconcile passes until the endpoint reaches `status` (bounded).
  std::string Reconcile(const std::string& endpoint, const std::string& status,
                        int max_passes = 200) {
    std::string last;
    for (int i = 0; i < max_passes; ++i) {
      EXPECT_TRUE(controller_->ReconcileOnce().ok());
      Json d = Describe(endpoint);
      last = d.value("EndpointStatus", "<gone>");
      if (last == status) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }

  std::filesystem::path dir_;
  RealClock clock_;
  MetricsRegistry metrics_;
  EndpointMetrics endpoint_metrics_{metrics_, clock_};
  MetadataStorePtr store_;
  BlobStorePtr blobs_;
  std::unique_ptr<FixedResolver> resolver_;
  std::unique_ptr<ModelDataFetcher> fetcher_;
  std::unique_ptr<HostingService> service_;
  std::unique_ptr<FakeRuntime> runtime_;
  std::unique_ptr<EndpointController> controller_;
  std::unique_ptr<InvocationRouter> router_;
  int router_timeout_ms_ = 60000;
};

}  // namespace mercato::hosting::testing
