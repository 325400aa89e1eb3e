// Tests for the built-in XGBoost container. Most run the real mercato-xgboost binary with
// MERCATO_ML_PREFIX pointing at a temp dir (no sandbox), as a platform would: train on the
// Iris data in tests/data/iris, then serve the model on a loopback port and score the
// held-out rows. A few cover the pure helpers directly.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/buffer.hpp"
#include "boost/beast/http.hpp"
#include "csv_data.h"
#include "gtest/gtest.h"
#include "hyperparameters.h"
#include "predictor.h"
#include "trainer.h"

namespace mercato::xgboost {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using std::chrono::steady_clock;

const fs::path kIrisDir = fs::path(MERCATO_TEST_DATA_DIR) / "iris";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mercato-xgb-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A child process of the container binary with stdout+stderr on a pipe.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      if (!env.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> argv = {const_cast<char*>(MERCATO_XGBOOST_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Reads output until `pattern` matches it or the deadline passes.
  std::optional<std::smatch> WaitForOutput(const std::regex& pattern,
                                           std::chrono::seconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
      std::smatch m;
      if (std::regex_search(output_, m, pattern)) return m;
      if (!ReadSome(100)) break;
    }
    std::smatch m;
    if (std::regex_search(output_, m, pattern)) return m;
    return std::nullopt;
  }

  // Waits for exit (killing the child after `timeout`); returns the exit code, -1 if killed.
  int Wait(std::chrono::seconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      if (steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        exit_code_ = -1;
        break;
      }
      ReadSome(20);
    }
    while (ReadSome(0)) {
    }
    return *exit_code_;
  }

  void Signal(int sig) { ::kill(pid_, sig); }
  const std::string& output() const { return output_; }

 private:
  // Appends available output; false at EOF.
  bool ReadSome(int wait_ms) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    output_.append(buf, n);
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  std::optional<int> exit_code_;
};

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
};

// One request on a fresh loopback connection ("Connection: close"), 30 s socket timeouts.
HttpResult Request(uint16_t port, const std::string& method, const std::string& target,
                   const std::string& body = "",
                   const std::map<std::string, std::string>& headers = {}) {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return result;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += n;
  }
  std::string raw;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, n);
  ::close(fd);
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(raw), ec);
  if (!parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_header_done()) return result;
  result.status = parser.get().result_int();
  result.content_type = std::string(parser.get()[http::field::content_type]);
  result.body = parser.get().body();
  return result;
}

// Lays out /opt/ml for a training job on the Iris data.
void PrepareTraining(const fs::path& root, const std::string& hyperparameters_json,
                     bool with_validation = true) {
  WriteFile(root / "input/config/hyperparameters.json", hyperparameters_json);
  WriteFile(root / "input/config/inputdataconfig.json",
            with_validation ? R"({"train": {"ContentType": "text/csv"},
                                  "validation": {"ContentType": "text/csv"}})"
                            : R"({"train": {"ContentType": "text/csv"}})");
  WriteFile(root / "input/data/train/train.csv", ReadFile(kIrisDir / "train.csv"));
  if (with_validation) {
    WriteFile(root / "input/data/validation/validation.csv", ReadFile(kIrisDir / "validation.csv"));
  }
}

int RunTrain(const fs::path& root, std::string* output) {
  Child child({"train"}, {{"MERCATO_ML_PREFIX", root.string()}, {"OMP_NUM_THREADS", "1"}});
  int rc = child.Wait(std::chrono::seconds(120));
  *output = child.output();
  return rc;
}

constexpr char kSoftmax[] =
    R"({"objective": "multi:softmax", "num_class": "3", "num_round": "20", "eta": "0.3",
        "max_depth": "4", "eval_metric": "merror", "seed": "7"})";

TEST(XgboostTrainTest, TrainsIrisAndPrintsRoundMetrics) {
  TempDir dir;
  PrepareTraining(dir.path(), kSoftmax);
  std::string out;
  ASSERT_EQ(RunTrain(dir.path(), &out), 0) << out;
  EXPECT_TRUE(fs::exists(dir.path() / "model/xgboost-model"));
  EXPECT_FALSE(fs::exists(dir.path() / "output/failure"));
  std::regex line(R"(\[(\d+)\]\ttrain-merror:\d\.\d{5}\tvalidation-merror:\d\.\d{5}\n)");
  int rounds = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
    EXPECT_EQ(std::stoi((*it)[1]), rounds);
    ++rounds;
  }
  EXPECT_EQ(rounds, 20) << out;
}

TEST(XgboostTrainTest, EarlyStoppingStopsBeforeNumRound) {
  TempDir dir;
  PrepareTraining(dir.path(), R"({"objective": "multi:softprob", "num_class": "3",
      "num_round": "500", "eval_metric": "mlogloss", "eta": "0.9", "early_stopping_rounds": "3"})");
  std::string out;
  ASSERT_EQ(RunTrain(dir.path(), &out), 0) << out;
  EXPECT_NE(out.find("Stopping. Best iteration:"), std::string::npos) << out;
  EXPECT_EQ(out.find("[499]"), std::string::npos);
}

struct BadCase {
  const char* name;
  const char* hyperparameters;
  const char* expected_failure;
};

class XgboostBadHyperparameterTest : public testing::TestWithParam<BadCase> {};

TEST_P(XgboostBadHyperparameterTest, ExitsOneWithFailureNamingTheParameter) {
  TempDir dir;
  PrepareTraining(dir.path(), GetParam().hyperparameters);
  std::string out;
  EXPECT_EQ(RunTrain(dir.path(), &out), 1) << out;
  std::string failure = ReadFile(dir.path() / "output/failure");
  EXPECT_NE(failure.find(GetParam().expected_failure), std::string::npos) << failure;
  EXPECT_FALSE(fs::exists(dir.path() / "model/xgboost-model"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, XgboostBadHyperparameterTest,
    testing::Values(
        BadCase{"EtaOutOfRange",
                R"({"objective": "multi:softmax", "num_class": "3", "num_round": "5", "eta": "5"})",
                "Hyperparameter eta: value 5 is out of range [0, 1]"},
        BadCase{"UnknownName", R"({"objective": "multi:softmax", "num_class": "3", "num_round": "5",
                    "learning_speed": "2"})",
                "Hyperparameter learning_speed: unknown hyperparameter"},
        BadCase{"MissingNumClass", R"({"objective": "multi:softmax", "num_round": "5"})",
                "Hyperparameter num_class: required for objective multi:softmax"},
        BadCase{"MissingNumRound", R"({"objective": "multi:softmax", "num_class": "3"})",
                "Hyperparameter num_round: required"},
        BadCase{"NumRoundNotInteger",
                R"({"objective": "multi:softmax", "num_class": "3", "num_round": "ten"})",
                "Hyperparameter num_round: value ten is not an integer"},
        BadCase{"SubsampleZero",
                R"({"objective": "multi:softmax", "num_class": "3", "num_round": "5",
                    "subsample": "0"})",
                "Hyperparameter subsample: value 0 is out of range (0, 1]"},
        BadCase{"LabelBeyondNumClass",
                R"({"objective": "multi:softmax", "num_class": "2", "num_round": "5"})",
                "with num_class 2 labels must be integers in [0, 2)"},
        BadCase{"UnknownMetric",
                R"({"objective": "multi:softmax", "num_class": "3", "num_round": "5",
                    "eval_metric": "accuracy"})",
                "Hyperparameter eval_metric: unknown metric accuracy"},
        BadCase{"UnknownObjective", R"({"objective": "reg:linear", "num_round": "5"})",
                "Hyperparameter objective: value reg:linear is not one of"}),
    [](const testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(XgboostTrainTest, BadTrainingDataNamesFileAndLine) {
  TempDir dir;
  PrepareTraining(dir.path(), kSoftmax, /*with_validation=*/false);
  WriteFile(dir.path() / "input/data/train/zz-extra.csv", "1,2.0,3.0,4.0,5.0\n1,2.0,x,4.0,5.0\n");
  std::string out;
  EXPECT_EQ(RunTrain(dir.path(), &out), 1);
  EXPECT_EQ(ReadFile(dir.path() / "output/failure"),
            "channel train: zz-extra.csv line 2: column 3: 'x' is not a number");
}

// Trains once, then serves the model for every test in the suite.
class XgboostServeTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    PrepareTraining(dir_->path(), kSoftmax);
    std::string out;
    ASSERT_EQ(RunTrain(dir_->path(), &out), 0) << out;
    server_ = new Child({"serve"}, {{"MERCATO_ML_PREFIX", dir_->path().string()},
                                    {"SAGEMAKER_BIND_TO_PORT", "0"},
                                    {"MERCATO_BIND_HOST", "127.0.0.1"},
                                    {"SAGEMAKER_MODEL_SERVER_WORKERS", "3"},
                                    {"OMP_NUM_THREADS", "1"}});
    auto m = server_->WaitForOutput(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"),
                                    std::chrono::seconds(60));
    ASSERT_TRUE(m.has_value()) << server_->output();
    port_ = static_cast<uint16_t>(std::stoi((*m)[1]));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_NE(port_, 0) << "server did not start"; }

  // Held-out rows without their label, and the labels.
  static std::pair<std::string, std::vector<int>> HeldOut() {
    std::istringstream in(ReadFile(kIrisDir / "test.csv"));
    std::string line, features;
    std::vector<int> labels;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      labels.push_back(std::stoi(line.substr(0, line.find(','))));
      features += line.substr(line.find(',') + 1) + "\n";
    }
    return {features, labels};
  }

  static inline TempDir* dir_ = nullptr;
  static inline Child* server_ = nullptr;
  static inline uint16_t port_ = 0;
};

TEST_F(XgboostServeTest, PingIsOk) { EXPECT_EQ(Request(port_, "GET", "/ping").status, 200); }

TEST_F(XgboostServeTest, CsvPredictionsAreAccurateOnHeldOutRows) {
  auto [features, labels] = HeldOut();
  ASSERT_EQ(labels.size(), 30u);
  HttpResult r = Request(port_, "POST", "/invocations", features,
                         {{"Content-Type", "text/csv"}, {"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/csv");
  std::istringstream out(r.body);
  std::string line;
  size_t i = 0, correct = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(i, labels.size());
    EXPECT_TRUE(line == "0.0" || line == "1.0" || line == "2.0") << line;
    if (std::stod(line) == labels[i]) ++correct;
    ++i;
  }
  EXPECT_EQ(i, labels.size());
  EXPECT_GE(correct * 10, labels.size() * 9) << correct << " of " << labels.size();
}

TEST_F(XgboostServeTest, JsonAcceptGivesPredictionsArray) {
  HttpResult r = Request(port_, "POST", "/invocations", "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n",
                         {{"Content-Type", "text/csv"}, {"Accept", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"predictions": [{"score": 0.0}, {"score": 2.0}]})");
}

TEST_F(XgboostServeTest, BadCsvIs400) {
  HttpResult r =
      Request(port_, "POST", "/invocations", "5.1,abc,1.4,0.2\n", {{"Content-Type", "text/csv"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'abc' is not a number"), std::string::npos) << r.body;
  // A row that still carries its label has one column too many.
  r = Request(port_, "POST", "/invocations", "0,5.1,3.5,1.4,0.2\n", {{"Content-Type", "text/csv"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("expects 4 features"), std::string::npos) << r.body;
  EXPECT_EQ(Request(port_, "POST", "/invocations", "", {{"Content-Type", "text/csv"}}).status, 400);
}

TEST_F(XgboostServeTest, UnsupportedContentTypeIs415) {
  HttpResult r = Request(port_, "POST", "/invocations", "{}",
                         {{"Content-Type", "application/x-recordio-protobuf"}});
  EXPECT_EQ(r.status, 415);
  r = Request(port_, "POST", "/invocations", "5.1,3.5,1.4,0.2",
              {{"Content-Type", "text/csv"}, {"Accept", "image/png"}});
  EXPECT_EQ(r.status, 406);
}

TEST_F(XgboostServeTest, ExecutionParameters) {
  HttpResult r = Request(port_, "GET", "/execution-parameters");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"MaxConcurrentTransforms": 3, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6})");
}

TEST_F(XgboostServeTest, ConcurrentClientsAllGetAnswers) {
  std::vector<std::thread> threads;
  std::vector<int> statuses(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = Request(port_, "POST", "/invocations", "5.1,3.5,1.4,0.2\n",
                            {{"Content-Type", "text/csv"}})
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
}

TEST_F(XgboostServeTest, UnknownRouteIs404) {
  EXPECT_EQ(Request(port_, "GET", "/nope").status, 404);
}

TEST(XgboostServeSoftprobTest, SoftprobRowsAndSigtermExitsCleanly) {
  TempDir dir;
  PrepareTraining(dir.path(), R"({"objective": "multi:softprob", "num_class": "3",
                                   "num_round": "10"})");
  std::string out;
  ASSERT_EQ(RunTrain(dir.path(), &out), 0) << out;
  // A model under another name is found when it is the only file.
  fs::rename(dir.path() / "model/xgboost-model", dir.path() / "model/my-model.bin");
  Child server({"--prefix", dir.path().string(), "serve"},
               {{"SAGEMAKER_BIND_TO_PORT", "0"}, {"MERCATO_BIND_HOST", "127.0.0.1"}});
  auto m = server.WaitForOutput(std::regex(R"(listening on 127\.0\.0\.1:(\d+))"),
                                std::chrono::seconds(60));
  ASSERT_TRUE(m.has_value()) << server.output();
  uint16_t port = static_cast<uint16_t>(std::stoi((*m)[1]));
  HttpResult r = Request(port, "POST", "/invocations", "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n",
                         {{"Content-Type", "text/csv; charset=utf-8"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::istringstream rows(r.body);
  std::string row;
  int n = 0;
  while (std::getline(rows, row)) {
    std::vector<double> p;
    std::istringstream cells(row);
    for (std::string cell; std::getline(cells, cell, ',');) p.push_back(std::stod(cell));
    ASSERT_EQ(p.size(), 3u) << row;
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-4);
    EXPECT_GT(p[n == 0 ? 0 : 2], 0.5) << row;
    ++n;
  }
  EXPECT_EQ(n, 2);
  r = Request(port, "POST", "/invocations", "5.1,3.5,1.4,0.2\n",
              {{"Content-Type", "text/csv"}, {"Accept", "application/json"}});
  EXPECT_TRUE(std::regex_match(
      r.body,
      std::regex(R"(\{"predictions": \[\{"score": \[[0-9.e-]+, [0-9.e-]+, [0-9.e-]+\]\}\]\})")))
      << r.body;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(std::chrono::seconds(60)), 0) << server.output();
}

TEST(XgboostServeStartTest, MissingModelExitsWithError) {
  TempDir dir;
  fs::create_directories(dir.path() / "model");
  Child server({"serve"}, {{"MERCATO_ML_PREFIX", dir.path().string()},
                           {"SAGEMAKER_BIND_TO_PORT", "0"},
                           {"MERCATO_BIND_HOST", "127.0.0.1"}});
  EXPECT_EQ(server.Wait(std::chrono::seconds(60)), 1);
  EXPECT_NE(server.output().find("no model in"), std::string::npos) << server.output();
}

// The pure helpers.

TEST(HyperparametersTest, ValidSetSplitsContainerAndBoosterParameters) {
  auto config = ValidateHyperparameters({{"num_round", "10"},
                                         {"objective", "multi:softprob"},
                                         {"num_class", "4"},
                                         {"eval_metric", "merror,mlogloss"},
                                         {"early_stopping_rounds", "2"},
                                         {"csv_weights", "1"},
                                         {"_tuning_objective_metric", "validation:merror"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->num_round, 10);
  EXPECT_EQ(config->num_class, 4);
  EXPECT_EQ(config->early_stopping_rounds, 2);
  EXPECT_TRUE(config->csv_weights);
  std::vector<std::pair<std::string, std::string>> expected = {{"eval_metric", "merror"},
                                                               {"eval_metric", "mlogloss"},
                                                               {"num_class", "4"},
                                                               {"objective", "multi:softprob"}};
  EXPECT_EQ(config->booster_params, expected);
}

TEST(HyperparametersTest, DefaultObjectiveAndRanges) {
  auto config = ValidateHyperparameters({{"num_round", "1"}, {"max_depth", "0"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->objective, "reg:squarederror");
  EXPECT_EQ(ValidateHyperparameters({{"num_round", "1"}, {"max_depth", "-1"}}).status().message(),
            "Hyperparameter max_depth: value -1 is out of range [0, inf)");
  EXPECT_EQ(ValidateHyperparameters({{"num_round", "1"}, {"gamma", "nan"}}).status().message(),
            "Hyperparameter gamma: value nan is not a number");
  EXPECT_EQ(ValidateHyperparameters({{"num_round", "99999999999"}}).status().message(),
            "Hyperparameter num_round: value 99999999999 is out of range [1, inf)");
  EXPECT_TRUE(
      ValidateHyperparameters({{"num_round", "1"}, {"eval_metric", "error@0.7,ndcg@3-"}}).ok());
  EXPECT_TRUE(MetricIsMaximized("auc"));
  EXPECT_TRUE(MetricIsMaximized("ndcg@5-"));
  EXPECT_FALSE(MetricIsMaximized("mlogloss"));
}

TEST(FormatTest, ScoresLookLikePythonFloats) {
  EXPECT_EQ(FormatScore(2.0f), "2.0");
  EXPECT_EQ(FormatScore(0.25f), "0.25");
  EXPECT_EQ(FormatScore(1e-5f), "1e-05");
  EXPECT_EQ(FormatEvalLine("[3]\ttrain-merror:0.02\tvalidation-merror:0.0333333"),
            "[3]\ttrain-merror:0.02000\tvalidation-merror:0.03333");
}

TEST(CsvTest, MissingValuesAndWeights) {
  xgb::DenseData data;
  ASSERT_TRUE(
      AppendCsv("1,0.5,2,,3\r\n\n0,1,4,5,6\n", {.has_label = true, .has_weight = true}, "t", &data)
          .ok());
  EXPECT_EQ(data.rows, 2u);
  EXPECT_EQ(data.cols, 3u);
  EXPECT_EQ(data.labels, (std::vector<float>{1, 0}));
  EXPECT_EQ(data.weights, (std::vector<float>{0.5, 1}));
  EXPECT_TRUE(std::isnan(data.values[1]));
  EXPECT_EQ(AppendCsv("1,2\n", {}, "t", &data).message(),
            "t line 1: 2 feature column(s), expected 3 like the records before");
  EXPECT_TRUE(IsCsvContentType("Text/CSV; label_size=1"));
  EXPECT_FALSE(IsCsvContentType("text/libsvm"));
}

}  // namespace
}  // namespace mercato::xgboost
