// Integration test of the hosting core on the real sandbox: pushes the built-in XGBoost
// image into an ImageRegistry, trains an Iris model with the mercato-xgboost binary, stores
// the model.tar.gz as an S3 object, and runs CreateModel → CreateEndpoint → InService →
// InvokeEndpoint through BwrapRuntime. Skipped when the sandbox cannot run here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/metrics.h"
#include "blob/memory_blob_store.h"
#include "hosting/endpoint_controller.h"
#include "hosting/hosting_service.h"
#include "hosting/invocation_router.h"
#include "hosting/registry_image_resolver.h"
#include "image/image_registry.h"
#include "image/rootfs_cache.h"
#include "sandbox/bwrap_runtime.h"
#include "store/sqlite_store.h"

namespace mercato::hosting {
namespace {
namespace fs = std::filesystem;

constexpr char kAccount[] = "123456789012";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void WriteFile(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

TEST(SandboxEndpointTest, XGBoostEndpointServesIrisPredictions) {
  fs::path dir = fs::temp_directory_path() / ("hosting_sandbox_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  RealClock clock;
  sandbox::BwrapRuntime::Options so;
  so.state_dir = (dir / "sandbox").string();
  so.cgroup_parent = "mercato-hosting-test";
  auto runtime = sandbox::BwrapRuntime::Create(so);
  if (!runtime.ok()) GTEST_SKIP() << "sandbox unavailable: " << runtime.status();

  auto store = *SqliteStore::Open({.path = (dir / "db.sqlite").string()});
  MemoryBlobStore blobs;
  auto registry = ImageRegistry::Create(*store, blobs, clock, {});
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto pushed = (*registry)->Push(kAccount, MERCATO_XGBOOST_IMAGE, "mercato-xgboost:latest");
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  auto rootfs = RootfsCache::Create(blobs, {.cache_dir = (dir / "rootfs").string()});
  ASSERT_TRUE(rootfs.ok());

  // Train on Iris with the container binary, outside any sandbox.
  fs::path ml = dir / "train";
  WriteFile(ml / "input/config/hyperparameters.json",
            R"({"objective": "multi:softmax", "num_class": "3", "num_round": "20"})");
  WriteFile(ml / "input/config/inputdataconfig.json", R"({"train": {"ContentType": "text/csv"}})");
  WriteFile(ml / "input/data/train/train.csv",
            ReadFile(fs::path(MERCATO_TEST_DATA_DIR) / "iris/train.csv"));
  std::string cmd = std::string(MERCATO_XGBOOST_BIN) + " --prefix " + ml.string() + " train > " +
                    (dir / "train.log").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFile(dir / "train.log");
  std::string tar =
      "tar czf " + (dir / "model.tar.gz").string() + " -C " + (ml / "model").string() + " .";
  ASSERT_EQ(std::system(tar.c_str()), 0);

  // The model data as an object of the account's bucket.
  auto blob = PutBlob(blobs, ReadFile(dir / "model.tar.gz"));
  ASSERT_TRUE(blob.ok());
  ASSERT_TRUE(store->Exec("INSERT INTO buckets VALUES ('models', ?, 'local', 0)", {kAccount}).ok());
  Json segments = Json::array({{{"blob", blob->id}, {"size", blob->size}}});
  ASSERT_TRUE(store
                  ->Exec("INSERT INTO objects VALUES ('models', 'iris/model.tar.gz', ?, 'e', "
                         "'application/gzip', '{}', ?, '', 0)",
                         {static_cast<int64_t>(blob->size), segments.dump()})
                  .ok());

  RegistryImageResolver resolver(**registry, **rootfs);
  ModelDataFetcher fetcher(*store, blobs);
  HostingOptions ho;
  ho.check_image = [&](std::string_view a, std::string_view i) { return resolver.Check(a, i); };
  HostingService service(*store, clock, ho);
  EndpointController controller(*store, **runtime, resolver, fetcher, clock,
                                {.instances_dir = (dir / "endpoints").string(),
                                 .interval = absl::Milliseconds(200),
                                 .stop_grace = absl::Seconds(5)});
  service.set_runtime_view(&controller);
  service.set_changed_callback([&] { controller.Notify(); });
  MetricsRegistry metrics;
  EndpointMetrics endpoint_metrics(metrics, clock);
  InvocationRouter router(controller, **runtime, *store, endpoint_metrics);

  ASSERT_TRUE(service
                  .CreateModel(kAccount, {{"ModelName", "iris"},
                                          {"PrimaryContainer",
                                           {{"Image", "mercato-xgboost:latest"},
                                            {"ModelDataUrl", "s3://models/iris/model.tar.gz"}}}})
                  .ok());
  EXPECT_FALSE(service
                   .CreateModel(kAccount, {{"ModelName", "nope"},
                                           {"PrimaryContainer", {{"Image", "absent:1"}}}})
                   .ok());
  ASSERT_TRUE(service
                  .CreateEndpointConfig(kAccount, {{"EndpointConfigName", "iris-config"},
                                                   {"ProductionVariants",
                                                    {{{"VariantName", "AllTraffic"},
                                                      {"ModelName", "iris"},
                                                      {"InitialInstanceCount", 1},
                                                      {"InstanceType", "ml.t2.medium"}}}}})
                  .ok());
  ASSERT_TRUE(service
                  .CreateEndpoint(kAccount,
                                  {{"EndpointName", "iris"}, {"EndpointConfigName", "iris-config"}})
                  .ok());
  controller.Start();
  std::string status;
  for (int i = 0; i < 600; ++i) {  // at most ~120 s
    status = (*service.DescribeEndpoint(kAccount, {{"EndpointName", "iris"}}))["EndpointStatus"];
    if (status != "Creating") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  Json described = *service.DescribeEndpoint(kAccount, {{"EndpointName", "iris"}});
  ASSERT_EQ(status, "InService") << described.dump();

  // Score the held-out rows.
  std::string rows, labels_csv = ReadFile(fs::path(MERCATO_TEST_DATA_DIR) / "iris/test.csv");
  std::vector<int> labels;
  std::istringstream lines(labels_csv);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    size_t comma = line.find(',');
    labels.push_back(std::stoi(line.substr(0, comma)));
    rows += line.substr(comma + 1) + "\n";
  }
  auto r = router.Invoke(kAccount, "iris", {.content_type = "text/csv", .body = rows});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->model_error) << r->body;
  std::vector<double> predictions;
  std::string body = r->body;
  for (char& c : body) {
    if (c == ',' || c == '\n' || c == '[' || c == ']') c = ' ';
  }
  std::istringstream values(body);
  for (double v; values >> v;) predictions.push_back(v);
  ASSERT_EQ(predictions.size(), labels.size()) << r->body;
  int correct = 0;
  for (size_t i = 0; i < labels.size(); ++i)
    correct += static_cast<int>(predictions[i]) == labels[i];
  EXPECT_GE(correct * 10, static_cast<int>(labels.size()) * 9) << r->body;

  ASSERT_TRUE(service.DeleteEndpoint(kAccount, {{"EndpointName", "iris"}}).ok());
  for (int i = 0; i < 300; ++i) {
    if (!service.DescribeEndpoint(kAccount, {{"EndpointName", "iris"}}).ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(service.DescribeEndpoint(kAccount, {{"EndpointName", "iris"}}).ok());
  controller.Stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mercato::hosting
