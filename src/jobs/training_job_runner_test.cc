// TrainingJobRunner over a scripted in-process ContainerRuntime, an in-memory SQLite store,
// the in-memory blob store and a manual clock.
#include "jobs/training_job_runner.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>

#include "base/crypto.h"
#include "base/errors.h"
#include "blob/memory_blob_store.h"
#include "gtest/gtest.h"
#include "jobs/run_files.h"
#include "sandbox/log_files.h"
#include "store/sqlite_store.h"

namespace mercato::jobs {
namespace {
namespace fs = std::filesystem;

constexpr char kAlice[] = "111111111111";

// What a scripted instance does at start.
struct Script {
  std::vector<std::string> log_lines;
  std::map<std::string, std::string> files;  // container path → content
  int exit_code = 0;
  bool run_until_stopped = false;
};

// Maps a container path to the host path of the mount that holds it.
std::string HostPath(const sandbox::InstanceSpec& spec, const std::string& path) {
  std::string best, host;
  for (const auto& m : spec.mounts) {
    if ((path == m.container_path || path.starts_with(m.container_path + "/")) &&
        m.container_path.size() > best.size()) {
      best = m.container_path;
      host = m.host_path + path.substr(m.container_path.size());
    }
  }
  return host;
}

class ScriptedRuntime final : public sandbox::ContainerRuntime {
 public:
  using ScriptFn = std::function<Script(const sandbox::InstanceSpec&)>;
  explicit ScriptedRuntime(const Clock& clock) : clock_(clock) {}
  void set_script(ScriptFn fn) { script_ = std::move(fn); }

  absl::StatusOr<sandbox::InstanceId> Start(const sandbox::InstanceSpec& spec) override {
    Script s = script_ ? script_(spec) : Script{};
    auto sink = sandbox::LogSink::Open(spec.log_dir, {}, clock_);
    if (!sink.ok()) return sink.status();
    for (const std::string& line : s.log_lines) (*sink)->Append("stdout", line + "\n");
    (*sink)->Close();
    for (const auto& [path, content] : s.files) {
      std::string host = HostPath(spec, path);
      fs::create_directories(fs::path(host).parent_path());
      std::ofstream(host) << content;
    }
    std::lock_guard<std::mutex> lock(mu_);
    started_.push_back(spec);
    sandbox::InstanceStatus st;
    st.running = s.run_until_stopped;
    if (!st.running) {
      st.exit_code = s.exit_code;
      st.reason = s.exit_code == 0 ? "Completed" : "Error";
    }
    status_[spec.id] = st;
    return spec.id;
  }
  absl::Status Stop(const sandbox::InstanceId& id, absl::Duration grace) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& st = status_[id];
    if (st.running) {
      st.running = false;
      st.exit_code = 143;
      st.signal = 15;
      st.reason = "Stopped";
      stop_graces_.push_back(grace);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<sandbox::InstanceStatus> Wait(const sandbox::InstanceId& id,
                                               absl::Duration) override {
    return Status(id);
  }
  absl::StatusOr<sandbox::InstanceStatus> Status(const sandbox::InstanceId& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = status_.find(id);
    if (it == status_.end()) return absl::NotFoundError(id);
    return it->second;
  }
  absl::StatusOr<int> Dial(const sandbox::InstanceId&, int, absl::Duration) override {
    return absl::UnimplementedError("no network");
  }
  absl::StatusOr<sandbox::LogReaderPtr> Logs(const sandbox::InstanceId&) override {
    return absl::UnimplementedError("read the log dir");
  }
  absl::Status Forget(const sandbox::InstanceId& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_.erase(id);
    return absl::OkStatus();
  }
  std::vector<sandbox::InstanceSpec> started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }
  std::vector<absl::Duration> stop_graces() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_graces_;
  }

 private:
  const Clock& clock_;
  ScriptFn script_;
  std::mutex mu_;
  std::map<std::string, sandbox::InstanceStatus> status_;
  std::vector<sandbox::InstanceSpec> started_;
  std::vector<absl::Duration> stop_graces_;
};

class FixedResolver final : public hosting::ImageResolver {
 public:
  explicit FixedResolver(std::string rootfs) : rootfs_(std::move(rootfs)) {}
  absl::StatusOr<hosting::ResolvedImage> Resolve(std::string_view,
                                                 std::string_view reference) override {
    if (reference != "algo:1") return absl::NotFoundError("no such image");
    hosting::ResolvedImage r;
    r.digest = "sha256:" + std::string(64, 'a');
    r.image_uri = "algo@" + r.digest;
    r.rootfs = rootfs_;
    r.entrypoint = {"/bin/algo"};
    r.env = {"PATH=/bin", "FROM_IMAGE=1"};
    return r;
  }

 private:
  std::string rootfs_;
};

class TrainingJobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tjrun-" + RandomHex(6));
    fs::create_directories(dir_ / "rootfs");
    store_ = std::move(SqliteStore::Open({.path = ":memory:"}).value());
    for (const char* b : {"data", "models"}) {
      ASSERT_TRUE(store_
                      ->Exec("INSERT INTO buckets (name, account_id, region, created_at) VALUES "
                             "(?, ?, 'local', 0)",
                             {std::string(b), std::string(kAlice)})
                      .ok());
    }
    objects_ = std::make_unique<storage::ObjectStore>(*store_, blobs_, clock_);
    resolver_ = std::make_unique<FixedResolver>((dir_ / "rootfs").string());
    runtime_ = std::make_unique<ScriptedRuntime>(clock_);
    ASSERT_TRUE(objects_->PutBytes(kAlice, "data", "iris/train/a.csv", "", "1,2,3\n").ok());
    ASSERT_TRUE(objects_->PutBytes(kAlice, "data", "iris/train/sub/b.csv", "", "4,5,6\n").ok());
    ASSERT_TRUE(objects_->PutBytes(kAlice, "data", "iris/val/v.csv", "", "7,8,9\n").ok());
    ASSERT_TRUE(objects_
                    ->PutBytes(kAlice, "data", "manifest.json", "",
                               R"([{"prefix": "s3://data/iris/"}, "val/v.csv"])")
                    .ok());
    NewRunner();
  }
  void TearDown() override {
    runner_.reset();
    fs::remove_all(dir_);
  }

  void NewRunner() {
    runner_.reset();
    TrainingRunnerOptions o;
    o.jobs_dir = (dir_ / "jobs").string();
    o.poll_interval = absl::Milliseconds(5);
    o.stop_grace = absl::Seconds(7);
    o.check_image = [](std::string_view, std::string_view image) {
      return image == "algo:1" ? absl::OkStatus() : absl::NotFoundError("no such image");
    };
    runner_ =
        std::make_unique<TrainingJobRunner>(*store_, *objects_, *resolver_, *runtime_, clock_, o);
  }

  Json Request(std::string name, int count = 1) {
    return {{"TrainingJobName", name},
            {"RoleArn", "arn:aws:iam::111111111111:role/Train"},
            {"AlgorithmSpecification",
             {{"TrainingImage", "algo:1"},
              {"TrainingInputMode", "File"},
              {"MetricDefinitions", Json::array({{{"Name", "validation:merror"},
                                                  {"Regex", "validation-merror:([0-9\\.]+)"}}})}}},
            {"HyperParameters", {{"eta", "0.3"}}},
            {"Environment", {{"MY_VAR", "v"}}},
            {"InputDataConfig",
             Json::array(
                 {{{"ChannelName", "train"},
                   {"ContentType", "text/csv"},
                   {"DataSource",
                    {{"S3DataSource",
                      {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://data/iris/train"}}}}}},
                  {{"ChannelName", "validation"},
                   {"DataSource",
                    {{"S3DataSource",
                      {{"S3DataType", "ManifestFile"}, {"S3Uri", "s3://data/manifest.json"}}}}}}})},
            {"OutputDataConfig", {{"S3OutputPath", "s3://models/out/"}}},
            {"ResourceConfig", {{"InstanceType", "ml.m5.large"}, {"InstanceCount", count}}},
            {"StoppingCondition", {{"MaxRuntimeInSeconds", 3600}}}};
  }

  Json Describe(const std::string& name) {
    auto d = runner_->Describe(kAlice, {{"TrainingJobName", name}});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Json::object();
  }

  Json RunToEnd(const Json& request) {
    auto created = runner_->Create(kAlice, request);
    EXPECT_TRUE(created.ok()) << created.status();
    std::string name = request["TrainingJobName"];
    EXPECT_TRUE(runner_->WaitIdle(kAlice, name, absl::Seconds(30)));
    return Describe(name);
  }

  // Waits (bounded) until the job's SecondaryStatus is `status`.
  bool WaitSecondary(const std::string& name, const std::string& status) {
    for (int i = 0; i < 3000; ++i) {
      if (Describe(name)["SecondaryStatus"] == status) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  // Waits (bounded) until `n` instances have started.
  bool WaitStarted(size_t n) {
    for (int i = 0; i < 3000; ++i) {
      if (runtime_->started().size() >= n) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  static std::vector<std::string> Statuses(const Json& d) {
    std::vector<std::string> out;
    for (const Json& t : d["SecondaryStatusTransitions"]) out.push_back(t["Status"]);
    return out;
  }

  fs::path dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  MetadataStorePtr store_;
  MemoryBlobStore blobs_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<FixedResolver> resolver_;
  std::unique_ptr<ScriptedRuntime> runtime_;
  std::unique_ptr<TrainingJobRunner> runner_;
};

TEST_F(TrainingJobRunnerTest, CompletesAndUploadsTheModel) {
  std::map<std::string, std::string> seen;  // what algo-1 found in its /opt/ml/input
  runtime_->set_script([&](const sandbox::InstanceSpec& spec) {
    Script s;
    if (spec.hostname == "algo-1") {
      auto read = [&](const std::string& p) {
        std::ifstream in(HostPath(spec, p));
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      };
      seen["a"] = read("/opt/ml/input/data/train/a.csv");
      seen["b"] = read("/opt/ml/input/data/train/sub/b.csv");
      seen["v"] = read("/opt/ml/input/data/validation/val/v.csv");
      seen["rc"] = read("/opt/ml/input/config/resourceconfig.json");
      seen["hp"] = read("/opt/ml/input/config/hyperparameters.json");
      s.log_lines = {"[0]\ttrain-merror:0.1\tvalidation-merror:0.2",
                     "[1]\ttrain-merror:0.05\tvalidation-merror:0.0333"};
      s.files = {{"/opt/ml/model/model.bin", "weights"}};
    }
    return s;
  });
  Json d = RunToEnd(Request("ok-job", 2));
  EXPECT_EQ(d["TrainingJobStatus"], "Completed");
  EXPECT_EQ(d["SecondaryStatus"], "Completed");
  EXPECT_EQ(Statuses(d), (std::vector<std::string>{"Starting", "Downloading", "Training",
                                                   "Uploading", "Completed"}));
  for (const Json& t : d["SecondaryStatusTransitions"]) EXPECT_TRUE(t.contains("EndTime"));
  EXPECT_EQ(d["TrainingJobArn"], "arn:aws:sagemaker:local:111111111111:training-job/ok-job");
  EXPECT_EQ(d["ModelArtifacts"]["S3ModelArtifacts"], "s3://models/out/ok-job/output/model.tar.gz");
  ASSERT_EQ(d["FinalMetricDataList"].size(), 1u);
  EXPECT_DOUBLE_EQ(d["FinalMetricDataList"][0]["Value"].get<double>(), 0.0333);
  EXPECT_EQ(d["TrainingTimeInSeconds"], 1);
  EXPECT_EQ(d["BillableTimeInSeconds"], 1);
  EXPECT_EQ(d["HyperParameters"]["eta"], "0.3");
  EXPECT_EQ(d["AlgorithmSpecification"]["TrainingImage"], "algo:1");
  EXPECT_EQ(d["ResourceConfig"]["InstanceCount"], 2);

  EXPECT_EQ(seen["a"], "1,2,3\n");
  EXPECT_EQ(seen["b"], "4,5,6\n");
  EXPECT_EQ(seen["v"], "7,8,9\n");
  Json rc = ParseJson(seen["rc"]).value();
  EXPECT_EQ(rc["current_host"], "algo-1");
  EXPECT_EQ(rc["hosts"], Json::array({"algo-1", "algo-2"}));
  EXPECT_EQ(ParseJson(seen["hp"]).value()["eta"], "0.3");

  auto started = runtime_->started();
  ASSERT_EQ(started.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const auto& s = started[i];
    EXPECT_EQ(s.hostname, "algo-" + std::to_string(i + 1));
    EXPECT_EQ(s.network_group, started[0].network_group);
    EXPECT_EQ(s.group_hosts, (std::vector<std::string>{"algo-1", "algo-2"}));
    EXPECT_EQ(s.entrypoint, "/bin/algo");
    EXPECT_EQ(s.args, std::vector<std::string>{"train"});
    EXPECT_EQ(s.env.at("SM_CURRENT_HOST"), s.hostname);
    EXPECT_EQ(s.env.at("MY_VAR"), "v");
    EXPECT_EQ(s.env.at("FROM_IMAGE"), "1");
    EXPECT_EQ(s.env.at("TRAINING_JOB_NAME"), "ok-job");
    EXPECT_EQ(s.instance_type, "ml.m5.large");
    std::map<std::string, bool> mounts;
    for (const auto& m : s.mounts) mounts[m.container_path] = m.read_only;
    EXPECT_EQ(mounts, (std::map<std::string, bool>{{"/opt/ml/checkpoints", false},
                                                   {"/opt/ml/input", true},
                                                   {"/opt/ml/input/config", true},
                                                   {"/opt/ml/model", false},
                                                   {"/opt/ml/output", false}}));
  }

  // The artifact is a tar.gz of algo-1's /opt/ml/model.
  fs::path archive = dir_ / "model.tar.gz";
  ASSERT_TRUE(
      objects_->Download(kAlice, "models", "out/ok-job/output/model.tar.gz", archive.string())
          .ok());
  fs::create_directories(dir_ / "unpacked");
  ASSERT_TRUE(ExtractArchive(archive.string(), (dir_ / "unpacked").string(), 1 << 20).ok());
  std::ifstream model(dir_ / "unpacked" / "model.bin");
  std::string content((std::istreambuf_iterator<char>(model)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "weights");

  // Logs stay readable; the channel data is cleaned up.
  auto logs = runner_->Logs(kAlice, "ok-job", {});
  ASSERT_TRUE(logs.ok()) << logs.status();
  ASSERT_EQ((*logs)["events"].size(), 2u);
  EXPECT_EQ((*logs)["done"], true);
  logs = runner_->Logs(kAlice, "ok-job", {.since_line = 1});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ((*logs)["events"].size(), 1u);
  EXPECT_EQ((*logs)["next_line"], 2);
  EXPECT_FALSE(runner_->Logs(kAlice, "ok-job", {.host = "algo-3"}).ok());
  EXPECT_EQ(runner_->Logs("222222222222", "ok-job", {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_ / "jobs" / kAlice / "ok-job" / "input"));

  // Names are unique per account.
  auto again = runner_->Create(kAlice, Request("ok-job"));
  EXPECT_EQ(AwsCodeOf(again.status()), "ResourceInUse");
  auto stop = runner_->Stop(kAlice, {{"TrainingJobName", "ok-job"}});
  EXPECT_EQ(AwsCodeOf(stop.status()), "ValidationException");
  EXPECT_NE(stop.status().message().find("status Completed"), std::string_view::npos);
}

TEST_F(TrainingJobRunnerTest, AlgorithmFailureUsesTheFailureFile) {
  runtime_->set_script([](const sandbox::InstanceSpec&) {
    Script s;
    s.files = {{"/opt/ml/output/failure", "Hyperparameter eta: 5 is above the maximum 1\n"}};
    s.exit_code = 1;
    return s;
  });
  Json d = RunToEnd(Request("bad-eta"));
  EXPECT_EQ(d["TrainingJobStatus"], "Failed");
  EXPECT_EQ(d["SecondaryStatus"], "Failed");
  EXPECT_EQ(d["FailureReason"], "AlgorithmError: Hyperparameter eta: 5 is above the maximum 1");
  EXPECT_FALSE(d.contains("ModelArtifacts"));
  EXPECT_EQ(Statuses(d).back(), "Failed");

  runtime_->set_script([](const sandbox::InstanceSpec& spec) {
    Script s;
    s.exit_code = spec.hostname == "algo-2" ? 3 : 0;
    return s;
  });
  d = RunToEnd(Request("exit-3", 2));
  EXPECT_EQ(d["FailureReason"],
            "AlgorithmError: the training container on algo-2 exited with status 3");
}

TEST_F(TrainingJobRunnerTest, MaxRuntimeStopsTheJob) {
  runtime_->set_script([](const sandbox::InstanceSpec&) {
    Script s;
    s.run_until_stopped = true;
    s.files = {{"/opt/ml/model/partial.bin", "half"}};
    return s;
  });
  Json req = Request("long-job");
  req["StoppingCondition"]["MaxRuntimeInSeconds"] = 60;
  ASSERT_TRUE(runner_->Create(kAlice, req).ok());
  ASSERT_TRUE(WaitStarted(1));
  clock_.Advance(absl::Seconds(61));
  ASSERT_TRUE(runner_->WaitIdle(kAlice, "long-job", absl::Seconds(30)));
  Json d = Describe("long-job");
  EXPECT_EQ(d["TrainingJobStatus"], "Stopped");
  EXPECT_EQ(d["SecondaryStatus"], "MaxRuntimeExceeded");
  EXPECT_EQ(Statuses(d).back(), "MaxRuntimeExceeded");
  EXPECT_EQ(d["ModelArtifacts"]["S3ModelArtifacts"],
            "s3://models/out/long-job/output/model.tar.gz");
  EXPECT_EQ(d["TrainingTimeInSeconds"], 61);
  ASSERT_EQ(runtime_->stop_graces().size(), 1u);
  EXPECT_EQ(runtime_->stop_graces()[0], absl::Seconds(7));
}

TEST_F(TrainingJobRunnerTest, StopTrainingJob) {
  runtime_->set_script([](const sandbox::InstanceSpec&) {
    Script s;
    s.run_until_stopped = true;
    return s;
  });
  ASSERT_TRUE(runner_->Create(kAlice, Request("stop-me", 2)).ok());
  ASSERT_TRUE(WaitStarted(2));
  ASSERT_TRUE(runner_->Stop(kAlice, {{"TrainingJobName", "stop-me"}}).ok());
  ASSERT_TRUE(runner_->WaitIdle(kAlice, "stop-me", absl::Seconds(30)));
  Json d = Describe("stop-me");
  EXPECT_EQ(d["TrainingJobStatus"], "Stopped");
  EXPECT_EQ(d["SecondaryStatus"], "Stopped");
  EXPECT_EQ(Statuses(d), (std::vector<std::string>{"Starting", "Downloading", "Training",
                                                   "Stopping", "Stopped"}));
  EXPECT_FALSE(d.contains("ModelArtifacts"));  // the algorithm saved nothing
  EXPECT_EQ(runtime_->stop_graces().size(), 2u);
  EXPECT_EQ(AwsCodeOf(runner_->Stop(kAlice, {{"TrainingJobName", "nope"}}).status()),
            "ResourceNotFound");
}

TEST_F(TrainingJobRunnerTest, ChannelAndCreateErrors) {
  Json req = Request("empty-channel");
  req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://data/nothing/";
  Json d = RunToEnd(req);
  EXPECT_EQ(d["TrainingJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("No S3 objects found under S3 URL "
                                                       "\"s3://data/nothing/\""),
            std::string::npos);
  EXPECT_TRUE(runtime_->started().empty());

  req = Request("no-bucket");
  req["OutputDataConfig"]["S3OutputPath"] = "s3://absent/x";
  auto s = runner_->Create(kAlice, req).status();
  EXPECT_EQ(AwsCodeOf(s), "ValidationException");
  EXPECT_NE(s.message().find("absent"), std::string_view::npos);
  req = Request("no-image");
  req["AlgorithmSpecification"]["TrainingImage"] = "other:2";
  s = runner_->Create(kAlice, req).status();
  EXPECT_EQ(AwsCodeOf(s), "ValidationException");
  EXPECT_NE(s.message().find("other:2"), std::string_view::npos);
  auto missing = runner_->Describe(kAlice, {{"TrainingJobName", "never"}});
  EXPECT_EQ(AwsCodeOf(missing.status()), "ResourceNotFound");
  EXPECT_EQ(missing.status().message(), "Requested resource not found.");
}

TEST_F(TrainingJobRunnerTest, ListFilters) {
  for (const char* name : {"b-job", "a-job", "c-other"}) {
    RunToEnd(Request(name));
    clock_.Advance(absl::Seconds(10));
  }
  auto names = [](const Json& page) {
    std::vector<std::string> out;
    for (const Json& s : page["TrainingJobSummaries"]) out.push_back(s["TrainingJobName"]);
    return out;
  };
  auto page = runner_->List(kAlice, Json::object());
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(names(*page), (std::vector<std::string>{"c-other", "a-job", "b-job"}));
  page = runner_->List(kAlice,
                       {{"NameContains", "JOB"}, {"SortBy", "Name"}, {"SortOrder", "Ascending"}});
  EXPECT_EQ(names(*page), (std::vector<std::string>{"a-job", "b-job"}));
  page = runner_->List(kAlice, {{"StatusEquals", "Failed"}});
  EXPECT_TRUE(names(*page).empty());
  page = runner_->List(kAlice, {{"MaxResults", 2}});
  EXPECT_EQ(names(*page).size(), 2u);
  ASSERT_TRUE(page->contains("NextToken"));
  page = runner_->List(kAlice, {{"MaxResults", 2}, {"NextToken", (*page)["NextToken"]}});
  EXPECT_EQ(names(*page), std::vector<std::string>{"b-job"});
  EXPECT_EQ((*runner_->List("222222222222", Json::object()))["TrainingJobSummaries"].size(), 0u);
}

TEST_F(TrainingJobRunnerTest, RecoverEndsJobsLeftInProgress) {
  Json d = RunToEnd(Request("survivor"));
  ASSERT_EQ(d["TrainingJobStatus"], "Completed");
  // As if the process died mid-training.
  ASSERT_TRUE(store_
                  ->Exec("UPDATE training_jobs SET status = 'InProgress', secondary_status = "
                         "'Training' WHERE name = 'survivor'")
                  .ok());
  NewRunner();
  ASSERT_TRUE(runner_->Recover().ok());
  d = Describe("survivor");
  EXPECT_EQ(d["TrainingJobStatus"], "Failed");
  EXPECT_EQ(d["SecondaryStatus"], "Failed");
  EXPECT_EQ(d["FailureReason"], "mercatod restarted while the job was running");
}

}  // namespace
}  // namespace mercato::jobs
