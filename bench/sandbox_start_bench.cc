// sandbox_start_bench: how fast the embedded sandbox brings a container up, and what reaching
// it through its network namespace costs.
//
//   sandbox_start_bench [--starts 20] [--pings 1000]
//
// 1. Ingests build/images/mercato-xgboost.tar into a temporary image registry (SQLite in
//    memory, encrypted local blob store), unpacks it once through the RootfsCache and trains
//    an Iris model with the host mercato-xgboost binary (both timed, for information).
// 2. Start-to-ready, `--starts` times: BwrapRuntime::Start of `mercato-xgboost serve` with the
//    model mounted at /opt/ml/model, then Dial(8080) + `GET /ping` every millisecond until
//    it answers 200; the instance is stopped before the next start. Median and p95.
// 3. One connection + `GET /ping` round trip, alternating one by one between the sandboxed
//    server (Dial through its namespace) and the same binary and model serving on host
//    loopback, `--pings` times each. Alternating keeps the two series under the same load,
//    which matters on a shared machine: the ratio of medians is the figure to read.
//
// Everything runs in a temporary directory that is removed at the end; traffic stays on
// 127.0.0.1 (host) or inside the sandbox's own namespace. Every wait is bounded. Needs root
// (cgroups, setns), like BwrapRuntime. Prints Markdown rows for bench/README.md.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "base/aead.h"
#include "base/clock.h"
#include "blob/local_blob_store.h"
#include "fmt/format.h"
#include "image/image_registry.h"
#include "image/rootfs_cache.h"
#include "sandbox/bwrap_runtime.h"
#include "spdlog/spdlog.h"
#include "store/sqlite_store.h"

extern char** environ;

namespace mercato::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr char kAccount[] = "000000000001";

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sandbox_start_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(fmt::format("{}: {}", what, v.status().ToString()));
  return *std::move(v);
}

// Sends `GET /ping` with Connection: close on a connected socket and returns the HTTP status
// (0 on any failure). The socket gets a 2 s receive timeout so a stuck server cannot hang us.
int PingStatus(int fd) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  static const char kReq[] = "GET /ping HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
  if (write(fd, kReq, sizeof(kReq) - 1) != static_cast<ssize_t>(sizeof(kReq) - 1)) return 0;
  std::string resp;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12) return 0;
  return std::atoi(resp.c_str() + 9);
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    Die("cannot pick a free port");
  }
  close(fd);
  return ntohs(sa.sin_port);
}

void WriteFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Runs argv with extra environment variables, stdout/stderr to `log`; returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            const std::string& log) {
  std::vector<std::string> env_strings = extra_env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> args, env;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env_strings) env.push_back(const_cast<char*>(e.c_str()));
  args.push_back(nullptr);
  env.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) Die(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  return pid;
}

// Trains a small Iris model with the host binary; returns the directory holding it.
fs::path TrainModel(const fs::path& work) {
  fs::path ml = work / "ml";
  WriteFile(ml / "input/config/hyperparameters.json",
            R"({"objective": "multi:softmax", "num_class": "3", "num_round": "20"})");
  WriteFile(ml / "input/config/inputdataconfig.json", R"({"train": {"ContentType": "text/csv"}})");
  fs::create_directories(ml / "input/data/train");
  fs::copy_file(fs::path(MERCATO_IRIS_DIR) / "train.csv", ml / "input/data/train/train.csv");
  pid_t pid = Spawn({MERCATO_XGBOOST_BIN, "--prefix", ml.string(), "train"}, {},
                    (work / "train.log").string());
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Die("training the Iris model failed");
  return ml / "model";
}

struct Options {
  int starts = 20;
  int pings = 1000;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--starts") {
      o.starts = std::clamp(value, 1, 200);
    } else if (flag == "--pings") {
      o.pings = std::clamp(value, 1, 20000);
    } else {
      Die("usage: sandbox_start_bench [--starts N] [--pings N]");
    }
  }
  return o;
}

// Polls Dial + GET /ping every millisecond for up to 10 s; true once it answers 200.
bool WaitReady(sandbox::BwrapRuntime& runtime, const std::string& id) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto fd = runtime.Dial(id, 8080, absl::Milliseconds(100));
    if (fd.ok()) {
      int code = PingStatus(*fd);
      close(*fd);
      if (code == 200) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

int Main(int argc, char** argv) {
  Options opt = ParseArgs(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(spdlog::level::warn);  // stdout is the report
  char tmpl[] = "/tmp/mercato-bench-sandbox-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  const fs::path work = tmpl;

  // 1. Image ingest, unpack, model.
  RealClock clock;
  auto store = Must(SqliteStore::Open({.path = ":memory:"}), "sqlite");
  std::string key = Must(LoadOrCreateMasterKey(work.string(), ""), "master key");
  auto blobs = Must(LocalBlobStore::Create({.root = (work / "blobs").string(), .master_key = key}),
                    "blob store");
  auto registry = Must(ImageRegistry::Create(*store, *blobs, clock, {}), "registry");
  auto t0 = Clock::now();
  Must(registry->Push(kAccount, MERCATO_XGBOOST_IMAGE, "mercato-xgboost:latest"), "push");
  auto t1 = Clock::now();
  ImageRecord image = Must(registry->Describe(kAccount, "mercato-xgboost:latest"), "describe");
  auto cache =
      Must(RootfsCache::Create(*blobs, {.cache_dir = (work / "rootfs").string()}), "rootfs cache");
  std::vector<std::string> layers;
  for (const ImageLayer& l : image.layers) layers.push_back(l.blob_id);
  std::string rootfs = Must(cache->GetRootfs(image.digest, layers), "unpack");
  auto t2 = Clock::now();
  fs::path model_dir = TrainModel(work);
  if (image.config.entrypoint.empty()) Die("the image has no entrypoint");

  sandbox::BwrapRuntime::Options runtime_options;
  runtime_options.state_dir = (work / "state").string();
  auto runtime = Must(sandbox::BwrapRuntime::Create(std::move(runtime_options)), "bwrap runtime");
  auto spec_for = [&](const std::string& id) {
    sandbox::InstanceSpec spec;
    spec.id = id;
    spec.rootfs = rootfs;
    spec.entrypoint = image.config.entrypoint[0];
    spec.args.assign(image.config.entrypoint.begin() + 1, image.config.entrypoint.end());
    spec.args.push_back("serve");
    for (const std::string& kv : image.config.env) {
      size_t eq = kv.find('=');
      if (eq != std::string::npos) spec.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    spec.mounts.push_back({model_dir.string(), "/opt/ml/model", /*read_only=*/true});
    spec.instance_type = "ml.t2.medium";
    spec.log_dir = (work / "logs" / id).string();
    return spec;
  };

  // 2. Start to ready.
  std::vector<double> start_ms, ready_ms;
  for (int i = 0; i < opt.starts; ++i) {
    std::string id = fmt::format("xgb-{}", i);
    auto begin = Clock::now();
    Must(runtime->Start(spec_for(id)), "start");
    auto started = Clock::now();
    if (!WaitReady(*runtime, id)) Die(fmt::format("{} did not answer /ping in 10 s", id));
    auto ready = Clock::now();
    start_ms.push_back(Millis(started - begin));
    ready_ms.push_back(Millis(ready - begin));
    if (auto s = runtime->Stop(id, absl::Seconds(2)); !s.ok()) Die(s.ToString());
    (void)runtime->Forget(id);
  }

  // 3. Dial + /ping through the namespace versus host loopback, alternating.
  Must(runtime->Start(spec_for("xgb-ping")), "start");
  if (!WaitReady(*runtime, "xgb-ping")) Die("xgb-ping did not answer /ping in 10 s");
  int port = FreePort();
  pid_t host_pid =
      Spawn({MERCATO_XGBOOST_BIN, "--prefix", (work / "ml").string(), "serve"},
            {fmt::format("SAGEMAKER_BIND_TO_PORT={}", port), "MERCATO_BIND_HOST=127.0.0.1"},
            (work / "host-serve.log").string());
  bool host_ready = false;
  for (int i = 0; i < 1000 && !host_ready; ++i) {
    int fd = ConnectLoopback(port);
    if (fd >= 0) {
      host_ready = PingStatus(fd) == 200;
      close(fd);
    }
    if (!host_ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!host_ready) Die("the host mercato-xgboost did not answer /ping in 10 s");
  std::vector<double> ns_us, host_us;
  int failures = 0;
  for (int i = 0; i < opt.pings; ++i) {
    auto a = Clock::now();
    auto fd = runtime->Dial("xgb-ping", 8080, absl::Seconds(2));
    failures += (fd.ok() && PingStatus(*fd) == 200) ? 0 : 1;
    if (fd.ok()) close(*fd);
    auto b = Clock::now();
    int hfd = ConnectLoopback(port);
    failures += (hfd >= 0 && PingStatus(hfd) == 200) ? 0 : 1;
    if (hfd >= 0) close(hfd);
    auto c = Clock::now();
    ns_us.push_back(Millis(b - a) * 1000);
    host_us.push_back(Millis(c - b) * 1000);
  }
  kill(host_pid, SIGTERM);
  waitpid(host_pid, nullptr, 0);
  (void)runtime->Stop("xgb-ping", absl::Seconds(2));
  runtime.reset();

  std::printf("image ingest (push + scan): %.0f ms; rootfs unpack: %.0f ms; %d failed pings\n\n",
              Millis(t1 - t0), Millis(t2 - t1), failures);
  std::printf("| XGBoost start-to-ready (%d starts) | median | p95 | min | max |\n", opt.starts);
  std::printf("| --- | --- | --- | --- | --- |\n");
  std::printf("| Start() returns | %.1f ms | %.1f ms | %.1f ms | %.1f ms |\n",
              Percentile(start_ms, 0.5), Percentile(start_ms, 0.95), Percentile(start_ms, 0),
              Percentile(start_ms, 1));
  std::printf("| GET /ping answers 200 | %.1f ms | %.1f ms | %.1f ms | %.1f ms |\n\n",
              Percentile(ready_ms, 0.5), Percentile(ready_ms, 0.95), Percentile(ready_ms, 0),
              Percentile(ready_ms, 1));
  std::printf("| connect + GET /ping (%d each, alternating) | median | p95 |\n", opt.pings);
  std::printf("| --- | --- | --- |\n");
  std::printf("| Dial into the sandbox's netns | %.0f us | %.0f us |\n", Percentile(ns_us, 0.5),
              Percentile(ns_us, 0.95));
  std::printf("| host loopback, same binary | %.0f us | %.0f us |\n", Percentile(host_us, 0.5),
              Percentile(host_us, 0.95));
  std::printf("| ratio netns/host | %.2fx | %.2fx |\n",
              Percentile(ns_us, 0.5) / Percentile(host_us, 0.5),
              Percentile(ns_us, 0.95) / Percentile(host_us, 0.95));
  std::error_code ec;
  fs::remove_all(work, ec);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mercato::bench

int main(int argc, char** argv) { return mercato::bench::Main(argc, argv); }
