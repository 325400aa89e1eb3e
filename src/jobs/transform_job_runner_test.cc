#include "jobs/transform_job_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/errors.h"
#include "blob/memory_blob_store.h"
#include "fmt/format.h"
#include "hosting/testing/fake_runtime.h"
#include "hosting/testing/hosting_fixture.h"
#include "jobs/transform_job_execution.h"
#include "jobs/transform_job_objects.h"
#include "storage/object_store.h"
#include "store/sqlite_store.h"

namespace mercato::jobs {
namespace {

using hosting::testing::FakeBehavior;
using hosting::testing::FakeRuntime;
using hosting::testing::FixedResolver;
using hosting::testing::kAccount;

// Answers each CSV line "x" with "out(x)", like a model that scores every record.
std::string ScoreLines(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    out += "out(" + body.substr(pos, nl - pos) + ")\n";
    pos = nl + 1;
  }
  return out;
}

class TransformRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("transform_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "rootfs");
    store_ = *SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store_
                    ->Exec("INSERT INTO buckets (name, account_id, region, created_at) VALUES "
                           "('data', ?, 'local', 0)",
                           {std::string(kAccount)})
                    .ok());
    blobs_ = std::make_unique<MemoryBlobStore>();
    object_store_ = std::make_unique<storage::ObjectStore>(*store_, *blobs_, clock_);
    objects_ = std::make_unique<S3TransformObjects>(*object_store_);
    resolver_ = std::make_unique<FixedResolver>((dir_ / "rootfs").string());
    fetcher_ = std::make_unique<hosting::ModelDataFetcher>(*store_, *blobs_);
    hosting_ =
        std::make_unique<hosting::HostingService>(*store_, clock_, hosting::HostingOptions{});
    runtime_ = std::make_unique<FakeRuntime>([this](const sandbox::InstanceSpec& s) {
      std::lock_guard<std::mutex> lock(mu_);
      return behavior_;
    });
    behavior_.respond = ScoreLines;
    MakeRunner();
    ASSERT_TRUE(hosting_
                    ->CreateModel(kAccount,
                                  {{"ModelName", "m"},
                                   {"PrimaryContainer",
                                    {{"Image", "algo:1"}, {"Environment", {{"FROM_MODEL", "1"}}}}}})
                    .ok());
  }
  void TearDown() override {
    runner_.reset();
    runtime_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeRunner() {
    runner_.reset();
    TransformRunnerOptions o;
    o.jobs_dir = (dir_ / "jobs").string();
    o.startup_timeout = absl::Milliseconds(startup_ms_);
    o.ping_timeout = absl::Milliseconds(500);
    o.poll_interval = absl::Milliseconds(20);
    o.retry_backoff = absl::Milliseconds(1);
    o.stop_grace = absl::Milliseconds(100);
    o.max_object_bytes = max_object_bytes_;
    runner_ = std::make_unique<TransformJobRunner>(*store_, *objects_, *hosting_, *resolver_,
                                                   *fetcher_, *runtime_, clock_, o);
  }
  void Put(const std::string& key, const std::string& data) {
    ASSERT_TRUE(object_store_->PutBytes(kAccount, "data", key, "text/csv", data).ok());
  }
  std::string Get(const std::string& key) {
    auto r = objects_->Read(kAccount, "data", key, 1 << 20);
    return r.ok() ? *r : "<" + std::string(r.status().message()) + ">";
  }
  static Json Request(const std::string& name) {
    return {{"TransformJobName", name},
            {"ModelName", "m"},
            {"TransformInput",
             {{"DataSource",
               {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://data/in/"}}}}},
              {"ContentType", "text/csv"},
              {"SplitType", "Line"}}},
            {"TransformOutput", {{"S3OutputPath", "s3://data/out"}, {"AssembleWith", "Line"}}},
            {"TransformResources", {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}}}};
  }
  Json Describe(const std::string& name) {
    auto r = runner_->Describe(kAccount, {{"TransformJobName", name}});
    return r.ok() ? *r : Json{{"error", std::string(r.status().message())}};
  }
  // Creates the job and waits for its thread to end; returns the final description.
  Json RunToEnd(const Json& request) {
    auto created = runner_->Create(kAccount, request);
    EXPECT_TRUE(created.ok()) << created.status();
    std::string name = request["TransformJobName"];
    EXPECT_TRUE(runner_->WaitIdle(kAccount, name, absl::Seconds(30)));
    return Describe(name);
  }

  std::filesystem::path dir_;
  RealClock clock_;
  MetadataStorePtr store_;
  std::unique_ptr<MemoryBlobStore> blobs_;
  std::unique_ptr<storage::ObjectStore> object_store_;
  std::unique_ptr<S3TransformObjects> objects_;
  std::unique_ptr<FixedResolver> resolver_;
  std::unique_ptr<hosting::ModelDataFetcher> fetcher_;
  std::unique_ptr<hosting::HostingService> hosting_;
  std::unique_ptr<FakeRuntime> runtime_;
  std::unique_ptr<TransformJobRunner> runner_;
  std::mutex mu_;
  FakeBehavior behavior_;
  int startup_ms_ = 5000;
  uint64_t max_object_bytes_ = 1ull << 30;
};

TEST_F(TransformRunnerTest, ManyObjectsKeepOrderAndTheConcurrencyLimit) {
  // More objects than request slots + read-ahead, several batches each, read while the
  // instances start (the request fixes the batching); at most 2 x 2 requests at once.
  std::atomic<int> in_flight{0}, most{0}, requests{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    behavior_.respond = [&](const std::string& body) {
      int now = ++in_flight;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      requests++;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      --in_flight;
      return ScoreLines(body);
    };
  }
  std::vector<std::string> want(9);
  for (int o = 0; o < 9; ++o) {
    std::string in;
    for (int i = 0; i < 12; ++i) {
      in += fmt::format("o{}r{}\n", o, i);
      want[o] += fmt::format("out(o{}r{})\n", o, i);
    }
    Put(fmt::format("in/{}.csv", o), in);
  }
  Json req = Request("many");
  req["BatchStrategy"] = "SingleRecord";
  req["MaxPayloadInMB"] = 1;
  req["MaxConcurrentTransforms"] = 2;
  req["TransformResources"]["InstanceCount"] = 2;
  Json d = RunToEnd(req);
  ASSERT_EQ(d["TransformJobStatus"], "Completed") << d.dump();
  for (int o = 0; o < 9; ++o) EXPECT_EQ(Get(fmt::format("out/{}.csv.out", o)), want[o]) << o;
  EXPECT_EQ(requests.load(), 9 * 12);
  EXPECT_LE(most.load(), 4);
  EXPECT_TRUE(runtime_->Running().empty());
}

TEST_F(TransformRunnerTest, AnObjectThatCannotBeReadFailsTheJobNamingIt) {
  max_object_bytes_ = 100;
  MakeRunner();
  Put("in/a.csv", "1\n");
  Put("in/b.csv", std::string(200, 'x') + "\n");
  for (bool early : {true, false}) {
    Json req = Request(early ? "unreadable-early" : "unreadable");
    if (early) {  // batching known up front: read while the instances start
      req["BatchStrategy"] = "MultiRecord";
      req["MaxPayloadInMB"] = 1;
    }
    Json d = RunToEnd(req);
    EXPECT_EQ(d["TransformJobStatus"], "Failed");
    std::string reason = d["FailureReason"];
    EXPECT_NE(reason.find("Failed to transform s3://data/in/b.csv"), std::string::npos) << reason;
    EXPECT_TRUE(runtime_->Running().empty());
  }
}

TEST_F(TransformRunnerTest, TransformsEveryObjectInOrderAcrossInstances) {
  std::string a, b;
  for (int i = 0; i < 200; ++i) a += "a" + std::to_string(i) + "\n";
  for (int i = 0; i < 50; ++i) b += "b" + std::to_string(i) + "\n";
  Put("in/a.csv", a);
  Put("in/sub/b.csv", b);
  Put("other/c.csv", "c\n");
  Json req = Request("job");
  req["BatchStrategy"] = "SingleRecord";
  req["MaxConcurrentTransforms"] = 4;
  req["TransformResources"]["InstanceCount"] = 2;
  req["Environment"] = {{"FROM_JOB", "2"}};
  Json d = RunToEnd(req);
  EXPECT_EQ(d["TransformJobStatus"], "Completed") << d.dump();
  std::string want_a, want_b;
  for (int i = 0; i < 200; ++i) want_a += "out(a" + std::to_string(i) + ")\n";
  for (int i = 0; i < 50; ++i) want_b += "out(b" + std::to_string(i) + ")\n";
  EXPECT_EQ(Get("out/a.csv.out"), want_a);
  EXPECT_EQ(Get("out/sub/b.csv.out"), want_b);
  EXPECT_EQ(object_store_->List(kAccount, "data", "out/")->size(), 2u);
  EXPECT_TRUE(runtime_->Running().empty());
  auto started = runtime_->Started();
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].args, std::vector<std::string>{"serve"});
  EXPECT_EQ(started[0].env["SAGEMAKER_BATCH"], "true");
  EXPECT_EQ(started[0].env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"], "4");
  EXPECT_EQ(started[0].env["SAGEMAKER_BATCH_STRATEGY"], "SINGLE_RECORD");
  EXPECT_EQ(started[0].env["SAGEMAKER_MAX_PAYLOAD_IN_MB"], "6");
  EXPECT_EQ(started[0].env["FROM_MODEL"], "1");
  EXPECT_EQ(started[0].env["FROM_JOB"], "2");
  EXPECT_EQ(started[0].mounts.at(0).container_path, "/opt/ml/model");
  EXPECT_EQ(d["MaxPayloadInMB"], 6);
  EXPECT_EQ(d["BatchStrategy"], "SingleRecord");
  EXPECT_TRUE(d.contains("TransformStartTime"));
  EXPECT_TRUE(d.contains("TransformEndTime"));
  EXPECT_EQ(d["DataProcessing"]["JoinSource"], "None");
  auto rows =
      store_->Query("SELECT COUNT(*) FROM transform_job_instances WHERE stopped_at IS NOT NULL");
  EXPECT_EQ((*rows)[0].Int(0), 2);
}

TEST_F(TransformRunnerTest, MultiRecordBatchesGzipInputFiltersAndJoin) {
  // "id,f1,f2" rows; the model sees f1,f2 and the output joins its score to the whole row.
  std::string csv;
  for (int i = 0; i < 30; ++i) csv += fmt::format("id{},{},{}\n", i, i, i * 2);
  std::string gz_path = (dir_ / "in.csv").string();
  { std::ofstream(gz_path) << csv; }
  ASSERT_EQ(std::system(("gzip -n -f " + gz_path).c_str()), 0);
  std::ifstream f(gz_path + ".gz", std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(f)), {});
  Put("in/rows.csv.gz", gz);
  std::atomic<int> requests{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    behavior_.respond = [&requests](const std::string& body) {
      requests++;
      std::string out = ScoreLines(body);
      std::replace(out.begin(), out.end(), ',', ';');
      return out;
    };
  }
  Json req = Request("joined");
  req["TransformInput"]["CompressionType"] = "Gzip";
  req["BatchStrategy"] = "MultiRecord";
  req["MaxPayloadInMB"] = 1;
  req["DataProcessing"] = {
      {"InputFilter", "$[1:]"}, {"JoinSource", "Input"}, {"OutputFilter", "$[0,-1]"}};
  Json d = RunToEnd(req);
  ASSERT_EQ(d["TransformJobStatus"], "Completed") << d.dump();
  std::string want;
  for (int i = 0; i < 30; ++i) want += fmt::format("id{},out({};{})\n", i, i, i * 2);
  EXPECT_EQ(Get("out/rows.csv.gz.out"), want);
  EXPECT_EQ(requests.load(), 1);  // 30 small rows fit one 1 MB payload
}

TEST_F(TransformRunnerTest, AFailingObjectFailsTheJobNamingIt) {
  Put("in/good.csv", "1\n");
  Put("in/zbad.csv", "2\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    behavior_.invocation_status = 400;
    behavior_.respond = [](const std::string&) { return std::string("could not parse row\n"); };
  }
  Json d = RunToEnd(Request("failing"));
  EXPECT_EQ(d["TransformJobStatus"], "Failed");
  std::string reason = d["FailureReason"];
  EXPECT_NE(reason.find("s3://data/in/good.csv"), std::string::npos) << reason;
  EXPECT_NE(reason.find("answered 400"), std::string::npos) << reason;
  EXPECT_NE(reason.find("could not parse row"), std::string::npos) << reason;
  EXPECT_TRUE(runtime_->Running().empty());
  // 4xx answers are the input's fault: no retries.
  EXPECT_EQ(runtime_->Served(runtime_->Started()[0].id), 1);
}

TEST_F(TransformRunnerTest, ServerErrorsAreRetriedThenFail) {
  Put("in/a.csv", "1\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    behavior_.invocation_status = 503;
  }
  Json req = Request("retrying");
  req["ModelClientConfig"] = {{"InvocationsMaxRetries", 2}};
  Json d = RunToEnd(req);
  EXPECT_EQ(d["TransformJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("answered 503"), std::string::npos);
  EXPECT_EQ(runtime_->Served(runtime_->Started()[0].id), 3);
}

TEST_F(TransformRunnerTest, StopEndsAJobStopped) {
  Put("in/a.csv", "1\n2\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    behavior_.delay_ms = 20000;
  }
  ASSERT_TRUE(runner_->Create(kAccount, Request("long")).ok());
  for (int i = 0; i < 500 && runtime_->Served(
                                 runtime_->Started().empty() ? "" : runtime_->Started()[0].id) == 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(runner_->Stop(kAccount, {{"TransformJobName", "long"}}).ok());
  std::string status = Describe("long")["TransformJobStatus"];
  EXPECT_TRUE(status == "Stopping" || status == "Stopped") << status;
  ASSERT_TRUE(runner_->WaitIdle(kAccount, "long", absl::Seconds(10)));
  EXPECT_EQ(Describe("long")["TransformJobStatus"], "Stopped");
  EXPECT_TRUE(runtime_->Running().empty());
  auto again = runner_->Stop(kAccount, {{"TransformJobName", "long"}});
  EXPECT_TRUE(again.ok());
}

TEST_F(TransformRunnerTest, ContainerThatNeverPingsFails) {
  Put("in/a.csv", "1\n");
  startup_ms_ = 300;
  MakeRunner();
  {
    std::lock_guard<std::mutex> lock(mu_);
    behavior_.ping_ok = false;
  }
  Json d = RunToEnd(Request("noping"));
  EXPECT_EQ(d["TransformJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("ping health check"), std::string::npos);
  EXPECT_TRUE(runtime_->Running().empty());
}

TEST_F(TransformRunnerTest, NoInputObjectsFails) {
  Json d = RunToEnd(Request("empty"));
  EXPECT_EQ(d["TransformJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("No input objects found under "
                                                       "s3://data/in/"),
            std::string::npos);
  EXPECT_TRUE(runtime_->Started().empty());
}

TEST_F(TransformRunnerTest, ManifestFileNamesTheObjects) {
  Put("in/x/one.csv", "1\n");
  Put("in/x/two.csv", "2\n");
  Put("in/x/skipped.csv", "3\n");
  Put("manifest.json", R"([{"prefix": "s3://data/in/"}, "x/one.csv", "x/two.csv"])");
  Json req = Request("manifest");
  req["TransformInput"]["DataSource"]["S3DataSource"] = {{"S3DataType", "ManifestFile"},
                                                         {"S3Uri", "s3://data/manifest.json"}};
  Json d = RunToEnd(req);
  ASSERT_EQ(d["TransformJobStatus"], "Completed") << d.dump();
  EXPECT_EQ(Get("out/x/one.csv.out"), "out(1)\n");
  EXPECT_EQ(Get("out/x/two.csv.out"), "out(2)\n");
  EXPECT_EQ(object_store_->List(kAccount, "data", "out/")->size(), 2u);
}

TEST_F(TransformRunnerTest, ApiErrors) {
  Json req = Request("dup");
  req["ModelName"] = "nope";
  auto r = runner_->Create(kAccount, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(AwsCodeOf(r.status()).value_or(""), "ValidationException");
  EXPECT_NE(r.status().message().find("Could not find model"), std::string::npos);
  req["ModelName"] = "m";
  req["MaxPayloadInMB"] = 101;
  EXPECT_EQ(AwsCodeOf(runner_->Create(kAccount, req).status()).value_or(""), "ValidationException");
  Put("in/a.csv", "1\n");
  ASSERT_TRUE(runner_->Create(kAccount, Request("dup")).ok());
  auto dup = runner_->Create(kAccount, Request("dup"));
  EXPECT_EQ(AwsCodeOf(dup.status()).value_or(""), "ResourceInUse");
  auto missing = runner_->Describe(kAccount, {{"TransformJobName", "none"}});
  EXPECT_EQ(AwsCodeOf(missing.status()).value_or(""), "ResourceNotFound");
  auto other = runner_->Describe("999988887777", {{"TransformJobName", "dup"}});
  EXPECT_EQ(AwsCodeOf(other.status()).value_or(""), "ResourceNotFound");
  EXPECT_EQ(
      AwsCodeOf(runner_->Stop(kAccount, {{"TransformJobName", "none"}}).status()).value_or(""),
      "ResourceNotFound");
  ASSERT_TRUE(runner_->WaitIdle(kAccount, "dup", absl::Seconds(30)));
  auto stop_done = runner_->Stop(kAccount, {{"TransformJobName", "dup"}});
  EXPECT_EQ(AwsCodeOf(stop_done.status()).value_or(""), "ValidationException");
}

TEST_F(TransformRunnerTest, ListFiltersSortsAndPages) {
  Put("in/a.csv", "1\n");
  for (std::string name : {"job-a", "job-b", "other-c"}) {
    RunToEnd(Request(name));
  }
  auto all = runner_->List(kAccount, {{"SortBy", "Name"}, {"SortOrder", "Ascending"}});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ((*all)["TransformJobSummaries"].size(), 3u);
  EXPECT_EQ((*all)["TransformJobSummaries"][0]["TransformJobName"], "job-a");
  EXPECT_EQ((*all)["TransformJobSummaries"][0]["TransformJobStatus"], "Completed");
  auto named = runner_->List(kAccount, {{"NameContains", "JOB"}, {"MaxResults", 1}});
  ASSERT_EQ((*named)["TransformJobSummaries"].size(), 1u);
  ASSERT_TRUE(named->contains("NextToken"));
  auto next = runner_->List(
      kAccount, {{"NameContains", "job"}, {"MaxResults", 1}, {"NextToken", (*named)["NextToken"]}});
  EXPECT_EQ((*next)["TransformJobSummaries"].size(), 1u);
  EXPECT_EQ(
      runner_->List(kAccount, {{"StatusEquals", "Failed"}})->at("TransformJobSummaries").size(),
      0u);
  EXPECT_FALSE(runner_->List(kAccount, {{"StatusEquals", "Done"}}).ok());
  EXPECT_TRUE(runner_->List("999988887777", Json::object())->at("TransformJobSummaries").empty());
}

TEST_F(TransformRunnerTest, RecoverEndsInterruptedJobs) {
  for (auto [name, status] :
       {std::pair{"was-running", "InProgress"}, std::pair{"was-stopping", "Stopping"}}) {
    ASSERT_TRUE(store_
                    ->Exec("INSERT INTO transform_jobs (account_id, name, arn, model_name, "
                           "status, failure_reason, request, model, effective, created_at, "
                           "started_at, ended_at, last_modified) VALUES (?, ?, 'arn', 'm', ?, "
                           "'', ?, '{}', NULL, 1, NULL, NULL, 1)",
                           {std::string(kAccount), std::string(name), std::string(status),
                            Request(name).dump()})
                    .ok());
  }
  ASSERT_TRUE(runner_->Recover().ok());
  Json d = Describe("was-running");
  EXPECT_EQ(d["TransformJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("mercatod stopped"), std::string::npos);
  EXPECT_EQ(Describe("was-stopping")["TransformJobStatus"], "Stopped");
}

TEST(ResolveBatchParameters, RequestWinsOverContainerOverDefaults) {
  transform::TransformJobSpec spec;
  auto p = transform::ResolveBatchParameters(spec, nullptr);
  EXPECT_EQ(p.max_concurrent_transforms, 1);
  EXPECT_EQ(p.max_payload_mb, 6);
  EXPECT_EQ(p.strategy, transform::BatchStrategy::kSingleRecord);
  Json container = {
      {"MaxConcurrentTransforms", 8}, {"BatchStrategy", "MULTI_RECORD"}, {"MaxPayloadInMB", 6}};
  p = transform::ResolveBatchParameters(spec, container);
  EXPECT_EQ(p.max_concurrent_transforms, 8);
  EXPECT_EQ(p.strategy, transform::BatchStrategy::kMultiRecord);
  spec.max_concurrent_transforms = 2;
  spec.max_payload_mb = 50;
  spec.batch_strategy = transform::BatchStrategy::kSingleRecord;
  p = transform::ResolveBatchParameters(spec, container);
  EXPECT_EQ(p.max_concurrent_transforms, 2);
  EXPECT_EQ(p.max_payload_mb, 50);
  EXPECT_EQ(p.strategy, transform::BatchStrategy::kSingleRecord);
  // The container's figures are capped so that concurrency x payload stays within 100 MB.
  transform::TransformJobSpec bare;
  p = transform::ResolveBatchParameters(bare,
                                        {{"MaxConcurrentTransforms", 40}, {"MaxPayloadInMB", 10}});
  EXPECT_EQ(p.max_concurrent_transforms, 10);
}

}  // namespace
}  // namespace mercato::jobs
