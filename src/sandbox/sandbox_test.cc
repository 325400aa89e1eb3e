// BwrapRuntime against the real bubblewrap: the isolation promises of DESIGN.md §5, each
// checked by running sandbox_probe (a static binary) in a tiny rootfs. Needs root, bwrap and
// writable cgroups; skipped otherwise. Network traffic stays in 127.0.0.0/8 or in namespaces
// the runtime made.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/bwrap_runtime.h"

namespace mercato::sandbox {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Host pids of every process whose PID namespace is the one `pid` lives in.
std::vector<pid_t> PidsInNamespaceOf(pid_t pid) {
  std::vector<pid_t> out;
  struct stat target;
  if (stat(fmt::format("/proc/{}/ns/pid", pid).c_str(), &target) != 0) return out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st;
    if (stat((e.path() / "ns/pid").c_str(), &st) == 0 && st.st_ino == target.st_ino &&
        st.st_dev == target.st_dev) {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0 || access("/usr/bin/bwrap", X_OK) != 0) {
      GTEST_SKIP() << "needs root and /usr/bin/bwrap";
    }
    std::string tmpl = (fs::temp_directory_path() / "sandbox_test_XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    fs::create_directories(root_ + "/rootfs/bin");
    fs::create_directories(root_ + "/rootfs/etc");
    fs::copy_file(SANDBOX_PROBE_PATH, root_ + "/rootfs/bin/sandbox_probe");
    std::ofstream(root_ + "/rootfs/etc/motd") << "image file\n";
    fs::create_directories(root_ + "/model");
    std::ofstream(root_ + "/model/weights") << "model weights\n";
    fs::create_directories(root_ + "/output");
    fs::create_directories(root_ + "/data");
    std::ofstream(root_ + "/data/secret") << "buyer data\n";
    std::ofstream(root_ + "/host_marker") << "host only\n";

    BwrapRuntime::Options o;
    o.state_dir = root_ + "/state";
    o.cgroup_parent = "mercato-test-" + RandomHex(4);
    o.instance_types.Add({"ml.test.tiny", 1, 64 * kMiB, 0});
    o.clock = &clock_;
    options_ = o;
    auto rt = BwrapRuntime::Create(o);
    ASSERT_TRUE(rt.ok()) << rt.status();
    runtime_ = std::move(*rt);
  }

  void TearDown() override {
    runtime_.reset();
    if (!root_.empty()) fs::remove_all(root_);
  }

  InstanceSpec Spec(const std::string& id, std::vector<std::string> args) {
    InstanceSpec s;
    s.id = id;
    s.rootfs = root_ + "/rootfs";
    s.entrypoint = "/bin/sandbox_probe";
    s.args = std::move(args);
    s.instance_type = "ml.t2.medium";
    s.mounts = {{root_ + "/model", "/opt/ml/model", true},
                {root_ + "/output", "/opt/ml/output", false}};
    s.log_dir = root_ + "/logs/" + id;
    return s;
  }

  // Runs a probe to completion; returns its status and log text.
  InstanceStatus Run(InstanceSpec spec, std::string* log = nullptr) {
    std::string id = spec.id;
    auto started = runtime_->Start(spec);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return {};
    auto st = runtime_->Wait(id, absl::Seconds(20));
    EXPECT_TRUE(st.ok()) << st.status();
    if (log) *log = LogText(id);
    EXPECT_TRUE(runtime_->Forget(id).ok());
    return st.ok() ? *st : InstanceStatus{};
  }
  InstanceStatus Run(const std::string& id, std::vector<std::string> args, std::string* log) {
    return Run(Spec(id, std::move(args)), log);
  }

  std::string LogText(const std::string& id) {
    auto reader = runtime_->Logs(id);
    if (!reader.ok()) return "";
    auto events = (*reader)->Read(10000);
    std::string text;
    if (events.ok()) {
      for (const auto& e : *events) text += e.stream + " " + e.message + "\n";
    }
    return text;
  }

  // Waits until the instance's log has a line containing `needle`.
  bool WaitForLog(const std::string& id, const std::string& needle) {
    for (int i = 0; i < 500; ++i) {
      if (LogText(id).find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Sends a request over a Dial()ed socket; returns the response.
  absl::StatusOr<std::string> Get(const std::string& id, int port) {
    absl::StatusOr<int> fd = absl::UnavailableError("not tried");
    for (int i = 0; i < 200 && !fd.ok(); ++i) {
      fd = runtime_->Dial(id, port, absl::Seconds(1));
      if (!fd.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!fd.ok()) return fd.status();
    const char req[] = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(write(*fd, req, sizeof(req) - 1), static_cast<ssize_t>(sizeof(req) - 1));
    std::string resp;
    char buf[1024];
    ssize_t n;
    while ((n = read(*fd, buf, sizeof(buf))) > 0) resp.append(buf, n);
    close(*fd);
    return resp;
  }

  ManualClock clock_{absl::FromUnixSeconds(1800000000)};
  std::string root_;
  BwrapRuntime::Options options_;
  std::unique_ptr<BwrapRuntime> runtime_;
};

// A TCP listener on the host's 127.0.0.1 (port 0); closed with the object.
struct HostListener {
  HostListener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    listen(fd, 8);
    socklen_t len = sizeof(sa);
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
  ~HostListener() { close(fd); }
  int fd;
  int port;
};

TEST_F(SandboxTest, CannotReachTheHostsLoopback) {
  HostListener host;
  std::string log;
  InstanceStatus st = Run("loop", {"connect", "127.0.0.1", std::to_string(host.port)}, &log);
  EXPECT_EQ(st.exit_code, 2) << log;
  EXPECT_THAT(log, HasSubstr("ECONNREFUSED"));
}

TEST_F(SandboxTest, HasNoRouteAnywhereAndNoDns) {
  std::string log;
  InstanceStatus st = Run("route", {"connect", "10.255.255.1", "80"}, &log);
  EXPECT_EQ(st.exit_code, 2) << log;
  EXPECT_THAT(log, HasSubstr("ENETUNREACH"));  // failed locally: no packet left
  st = Run("dns", {"resolve", "example.com"}, &log);
  EXPECT_EQ(st.exit_code, 2) << log;
  st = Run("self", {"resolve", "self"}, &log);  // /etc/hosts names the instance itself
  EXPECT_EQ(st.exit_code, 0) << log;
}

TEST_F(SandboxTest, SeesOnlyItsRootfsAndMounts) {
  std::string log;
  EXPECT_EQ(Run("marker", {"read", root_ + "/host_marker"}, &log).exit_code, 2) << log;
  EXPECT_EQ(Run("data", {"read", root_ + "/data/secret"}, &log).exit_code, 2) << log;
  EXPECT_EQ(Run("etc", {"read", "/etc/motd"}, &log).exit_code, 0) << log;
  EXPECT_EQ(Run("model", {"read", "/opt/ml/model/weights"}, &log).exit_code, 0) << log;
  EXPECT_THAT(log, HasSubstr("model weights"));
}

TEST_F(SandboxTest, CannotWriteItsRootfsOrReadOnlyMounts) {
  std::string log;
  for (const char* path : {"/bin/x", "/etc/x", "/x", "/opt/ml/model/x", "/opt/x"}) {
    EXPECT_EQ(Run("w", {"write", path}, &log).exit_code, 2) << path << ": " << log;
  }
  EXPECT_EQ(Run("w", {"write", "/tmp/x"}, &log).exit_code, 0) << log;
  EXPECT_EQ(Run("w", {"write", "/opt/ml/output/result"}, &log).exit_code, 0) << log;
  EXPECT_TRUE(fs::exists(root_ + "/output/result"));
  EXPECT_FALSE(fs::exists(root_ + "/rootfs/x"));
  EXPECT_EQ(fs::directory_iterator(root_ + "/rootfs/etc")->path().filename(), "motd");
}

TEST_F(SandboxTest, SeesOnlyItsOwnProcesses) {
  std::string log;
  EXPECT_EQ(Run("ps", {"ps"}, &log).exit_code, 0);
  EXPECT_THAT(log, HasSubstr("pids: 1\n"));
  EXPECT_THAT(log, HasSubstr("count: 1"));
}

TEST_F(SandboxTest, MemoryHogIsKilledAsOutOfMemory) {
  InstanceSpec spec = Spec("hog", {"hog", "256"});
  spec.instance_type = "ml.test.tiny";  // 64 MiB
  std::string log;
  InstanceStatus st = Run(spec, &log);
  EXPECT_TRUE(st.oom_killed) << log;
  EXPECT_EQ(st.reason, "OutOfMemory");
  EXPECT_EQ(st.signal, SIGKILL);
  EXPECT_THAT(log, Not(HasSubstr("hogged")));
}

TEST_F(SandboxTest, RunsInsideItsCgroupWithLimits) {
  InstanceSpec spec = Spec("limits", {"sleep"});
  spec.instance_type = "ml.test.tiny";
  ASSERT_TRUE(runtime_->Start(spec).ok());
  // Until the probe installs its handler, PID 1 ignores SIGTERM (as under Docker).
  ASSERT_TRUE(WaitForLog("limits", "sleeping"));
  auto st = runtime_->Status("limits");
  ASSERT_TRUE(st.ok() && st->running);
  std::string cgroups = ReadAll(fmt::format("/proc/{}/cgroup", st->pid));
  EXPECT_THAT(cgroups, HasSubstr(options_.cgroup_parent + "/limits-"));
  // v1 memory hierarchy (this host): the limit file of the instance's memory cgroup.
  for (const auto& line : absl::StrSplit(cgroups, '\n')) {
    std::string l(line);
    if (l.find(":memory:") == std::string::npos) continue;
    std::string dir = "/sys/fs/cgroup/memory" + l.substr(l.find(":memory:") + 8);
    EXPECT_EQ(ReadAll(dir + "/memory.limit_in_bytes"), std::to_string(64 * kMiB) + "\n");
  }
  ASSERT_TRUE(runtime_->Stop("limits", absl::Seconds(5)).ok());
  EXPECT_EQ(runtime_->Status("limits")->reason, "Stopped");
  EXPECT_EQ(runtime_->Status("limits")->exit_code, 0);  // the probe exits 0 on SIGTERM
}

TEST_F(SandboxTest, StopKillsEveryProcessAfterGrace) {
  ASSERT_TRUE(runtime_->Start(Spec("spawn", {"spawn-and-sleep", "2"})).ok());
  ASSERT_TRUE(WaitForLog("spawn", "spawned all"));
  pid_t init = runtime_->Status("spawn")->pid;
  std::vector<pid_t> pids = PidsInNamespaceOf(init);
  EXPECT_EQ(pids.size(), 3u);
  ASSERT_TRUE(runtime_->Stop("spawn", absl::Milliseconds(300)).ok());
  InstanceStatus st = *runtime_->Status("spawn");
  EXPECT_FALSE(st.running);
  EXPECT_EQ(st.reason, "Stopped");
  EXPECT_EQ(st.signal, SIGKILL);  // SIGTERM was ignored
  for (pid_t p : pids) EXPECT_FALSE(fs::exists(fmt::format("/proc/{}", p))) << p << " survived";
  // The cgroup went with them.
  std::string parent = "/sys/fs/cgroup/pids/" + options_.cgroup_parent;
  if (fs::exists(parent)) {
    for (const auto& e : fs::directory_iterator(parent)) {
      EXPECT_FALSE(e.is_directory()) << e.path() << " left behind";
    }
  }
}

TEST_F(SandboxTest, DialReachesTheInstancesPort) {
  ASSERT_TRUE(runtime_->Start(Spec("web", {"listen", "8080"})).ok());
  auto resp = Get("web", 8080);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_THAT(*resp, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_EQ(runtime_->Dial("web", 8081, absl::Seconds(1)).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(runtime_->Stop("web", absl::Seconds(5)).ok());
  EXPECT_EQ(runtime_->Dial("web", 8080).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SandboxTest, NetworkGroupMembersReachEachOtherButNotTheHost) {
  HostListener host;
  auto member = [&](const std::string& host_name, std::vector<std::string> args) {
    InstanceSpec s = Spec(host_name + "-" + RandomHex(2), std::move(args));
    s.network_group = "job1";
    s.group_hosts = {"algo-1", "algo-2", "algo-3"};
    s.hostname = host_name;
    return s;
  };
  InstanceSpec a = member("algo-1", {"listen", "8080", "algo-1"});
  InstanceSpec b = member("algo-2", {"listen", "8080", "algo-2"});  // same port, own address
  ASSERT_TRUE(runtime_->Start(a).ok());
  ASSERT_TRUE(runtime_->Start(b).ok());
  ASSERT_TRUE(Get(a.id, 8080).ok());
  ASSERT_TRUE(Get(b.id, 8080).ok());
  std::string log;
  EXPECT_EQ(Run(member("algo-3", {"connect", "algo-1", "8080"}), &log).exit_code, 0) << log;
  EXPECT_EQ(Run(member("algo-3", {"connect", "algo-2", "8080"}), &log).exit_code, 0) << log;
  EXPECT_EQ(Run(member("algo-3", {"resolve", "algo-2"}), &log).exit_code, 0) << log;
  EXPECT_THAT(log, HasSubstr("127.0.1.2"));
  EXPECT_EQ(
      Run(member("algo-3", {"connect", "127.0.0.1", std::to_string(host.port)}), &log).exit_code, 2)
      << log;
  EXPECT_EQ(Run(member("algo-3", {"connect", "10.255.255.1", "80"}), &log).exit_code, 2);
  EXPECT_THAT(log, HasSubstr("ENETUNREACH"));
  // A solo instance is not in the group's namespace.
  EXPECT_EQ(Run("solo", {"connect", "127.0.1.1", "8080"}, &log).exit_code, 2) << log;
  // One hostname runs once per group.
  EXPECT_EQ(runtime_->Start(member("algo-1", {"sleep"})).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(runtime_->Stop(a.id, absl::Seconds(5)).ok());
  EXPECT_TRUE(runtime_->Stop(b.id, absl::Seconds(5)).ok());
}

TEST_F(SandboxTest, RefusesWhatDoesNotFit) {
  BwrapRuntime::Options o = options_;
  o.cgroup_parent += "-small";
  o.capacity = {HostResources{2, 4 * kGiB, 0, {}}, 1.0, 1.0};
  auto small = BwrapRuntime::Create(o);
  ASSERT_TRUE(small.ok());
  InstanceSpec spec = Spec("big", {"sleep"});
  spec.instance_type = "ml.m5.xlarge";
  absl::Status s = (*small)->Start(spec).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("insufficient capacity: ml.m5.xlarge needs 4 vCPU / 16 GiB; host has 2 "
                        "vCPU / 4 GiB free"));
  spec.instance_type = "ml.g4dn.xlarge";
  s = (*small)->Start(spec).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("GPU"));
  spec.instance_type = "ml.t2.medium";  // 2 vCPU / 4 GiB: fits exactly once
  ASSERT_TRUE((*small)->Start(spec).ok());
  spec.id = "big2";
  EXPECT_EQ((*small)->Start(spec).status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE((*small)->Stop("big", absl::Milliseconds(100)).ok());
  EXPECT_TRUE((*small)->Start(spec).ok());  // capacity came back
  EXPECT_EQ((*small)->Start(spec).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE((*small)->Stop("big2", absl::Milliseconds(100)).ok());
}

TEST_F(SandboxTest, LogsHoldTimestampedOutputLines) {
  ASSERT_TRUE(runtime_->Start(Spec("echo", {"echo", "hello", "world"})).ok());
  auto reader = runtime_->Logs("echo");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(runtime_->Wait("echo", absl::Seconds(10)).ok());
  auto events = (*reader)->Read(100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].message, "hello");
  EXPECT_EQ((*events)[0].stream, "stdout");
  EXPECT_EQ((*events)[0].time, clock_.Now());
  EXPECT_EQ((*events)[1].message, "world");
  EXPECT_EQ((*events)[2].stream, "stderr");
  EXPECT_EQ((*events)[2].message, "done");
  EXPECT_THAT(ReadAll(root_ + "/logs/echo/container.log"),
              HasSubstr("2027-01-15T08:00:00.000000Z stdout hello\n"));
  EXPECT_EQ(runtime_->Status("echo")->reason, "Completed");
}

TEST_F(SandboxTest, BadSpecsAreRejected) {
  InstanceSpec spec = Spec("bad/id", {"sleep"});
  EXPECT_EQ(runtime_->Start(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Spec("missing", {"sleep"});
  spec.entrypoint = "/bin/nope";
  std::string log;
  auto st = runtime_->Start(spec);
  // bwrap starts but cannot exec: reported as an error exit, or at start.
  if (st.ok()) {
    EXPECT_NE(runtime_->Wait("missing", absl::Seconds(10))->exit_code, 0);
  }
  // bwrap fails while setting up (a mount point below a file), after it reported the pid:
  // the instance ends with an Error whose cause is in its log, and nothing leaks.
  double free_before = runtime_->capacity().Free().vcpus;
  spec = Spec("badmount", {"sleep"});
  spec.mounts.push_back({root_ + "/data", "/etc/motd/sub", true});
  st = runtime_->Start(spec);
  if (st.ok()) {
    auto status = runtime_->Wait("badmount", absl::Seconds(10));
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->reason, "Error");
    EXPECT_THAT(LogText("badmount"), HasSubstr("stderr bwrap: "));
  } else {
    EXPECT_THAT(st.status().ToString(), HasSubstr("bwrap"));
  }
  EXPECT_EQ(runtime_->capacity().Free().vcpus, free_before);
  spec = Spec("type", {"sleep"});
  spec.instance_type = "ml.unknown";
  EXPECT_EQ(runtime_->Start(spec).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime_->Status("nobody").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mercato::sandbox
