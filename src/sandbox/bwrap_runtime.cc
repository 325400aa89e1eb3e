#include "sandbox/bwrap_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/crypto.h"
#include "base/json.h"
#include "base/status.h"
#include "fmt/format.h"
#include "sandbox/bwrap_args.h"
#include "spdlog/spdlog.h"

namespace mercato::sandbox {
namespace fs = std::filesystem;

struct BwrapRuntime::Instance {
  InstanceSpec spec;
  std::string address;    // the instance's own address inside its network namespace
  std::string state_dir;  // generated files
  std::unique_ptr<InstanceCgroup> cgroup;
  std::unique_ptr<LogSink> log;
  pid_t bwrap_pid = -1;
  int bwrap_pidfd = -1;
  int child_pidfd = -1;  // the entrypoint, PID 1 of the instance
  int netns_fd = -1;     // owned (a dup of the group's for group members)
  int out_fd = -1, err_fd = -1;
  std::thread monitor;
  // Guarded by BwrapRuntime::mu_.
  bool exited = false;
  bool stop_requested = false;
  InstanceStatus status;
};

namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
int PidfdSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}
void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(fmt::format("write {}", path));
  return absl::OkStatus();
}

std::string HostsFile(const InstanceSpec& spec, const std::string& address) {
  std::string s = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (spec.network_group.empty()) {
    s += fmt::format("{}\t{}\n", address, spec.hostname);
  } else {
    for (size_t i = 0; i < spec.group_hosts.size(); ++i) {
      s += fmt::format("127.0.1.{}\t{}\n", i + 1, spec.group_hosts[i]);
    }
  }
  return s;
}

// Reads bwrap's --info-fd JSON until EOF or `timeout`.
absl::StatusOr<pid_t> ReadChildPid(int fd, absl::Duration timeout) {
  std::string data;
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (ms <= 0) return absl::DeadlineExceededError("bwrap did not report the sandbox pid");
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  Json info = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object() || !info.contains("child-pid") || !info["child-pid"].is_number_integer()) {
    return absl::InternalError("bwrap exited before starting the sandbox");
  }
  return info["child-pid"].get<pid_t>();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BwrapRuntime>> BwrapRuntime::Create(Options options) {
  if (access(options.bwrap_path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        fmt::format("bubblewrap not found at {} (apt-get install bubblewrap)", options.bwrap_path));
  }
  if (options.state_dir.empty()) return absl::InvalidArgumentError("state_dir is required");
  std::error_code ec;
  fs::create_directories(fs::path(options.state_dir) / "instances", ec);
  if (ec) return absl::InternalError(fmt::format("state dir: {}", ec.message()));
  ASSIGN_OR_RETURN(CgroupLayout layout, CgroupLayout::Detect());
  ASSIGN_OR_RETURN(auto netns, NetnsHelper::Create());
  return std::unique_ptr<BwrapRuntime>(
      new BwrapRuntime(std::move(options), std::move(layout), std::move(netns)));
}

BwrapRuntime::BwrapRuntime(Options options, CgroupLayout layout, std::unique_ptr<NetnsHelper> netns)
    : options_(std::move(options)),
      own_clock_(options_.clock ? nullptr : std::make_unique<RealClock>()),
      clock_(options_.clock ? *options_.clock : *own_clock_),
      layout_(std::move(layout)),
      capacity_(options_.capacity),
      netns_(std::move(netns)) {}

BwrapRuntime::~BwrapRuntime() {
  std::vector<InstanceId> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, inst] : instances_) ids.push_back(id);
  }
  for (const auto& id : ids) {
    absl::Status s = Stop(id, options_.shutdown_grace);
    if (!s.ok()) spdlog::warn("sandbox: stopping {}: {}", id, s.ToString());
  }
  std::map<InstanceId, std::shared_ptr<Instance>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(instances_);
  }
  // Joined without mu_: a monitor still finishing needs it.
  for (auto& [id, inst] : all) {
    if (inst->monitor.joinable()) inst->monitor.join();
  }
  for (auto& [name, group] : groups_) CloseFd(group.netns_fd);
  RemoveCgroupParent(layout_, options_.cgroup_parent);
}

std::shared_ptr<BwrapRuntime::Instance> BwrapRuntime::Find(const InstanceId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second;
}

namespace {

// True if `pid` no longer runs: gone, or a zombie waiting to be reaped.
bool ProcessEnded(int pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return !stat.good();
  char state = text[paren + 2];
  return state == 'Z' || state == 'X';
}

// An exiting process loses its namespaces a moment before it becomes a zombie, so give a
// process whose namespaces are already gone a little time to show that it ended.
bool ProcessEndsSoon(int pid) {
  for (int i = 0; i < 250; ++i) {
    if (ProcessEnded(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

}  // namespace

absl::StatusOr<InstanceId> BwrapRuntime::Start(const InstanceSpec& in_spec) {
  InstanceSpec spec = in_spec;
  if (!ValidId(spec.id))
    return absl::InvalidArgumentError(fmt::format("bad instance id '{}'", spec.id));
  if (spec.hostname.empty()) spec.hostname = spec.id;
  if (spec.log_dir.empty()) return absl::InvalidArgumentError("log_dir is required");
  if (!spec.env.count("PATH"))
    spec.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  ASSIGN_OR_RETURN(InstanceType type, options_.instance_types.Find(spec.instance_type));

  auto inst = std::make_shared<Instance>();
  int group_fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (instances_.count(spec.id)) {
      return absl::AlreadyExistsError(fmt::format("instance {} exists", spec.id));
    }
    RETURN_IF_ERROR(capacity_.Reserve(spec.id, type));
    if (spec.network_group.empty()) {
      inst->address = "127.0.0.1";
    } else {
      auto pos = std::find(spec.group_hosts.begin(), spec.group_hosts.end(), spec.hostname);
      absl::Status bad;
      if (pos == spec.group_hosts.end() || spec.group_hosts.size() > 250) {
        bad = absl::InvalidArgumentError(
            fmt::format("hostname {} is not one of the group's hosts", spec.hostname));
      } else if (groups_.count(spec.network_group) &&
                 groups_[spec.network_group].members.count(spec.hostname)) {
        bad = absl::AlreadyExistsError(
            fmt::format("{} already runs in network group {}", spec.hostname, spec.network_group));
      }
      if (bad.ok() && !groups_.count(spec.network_group)) {
        auto fd = netns_->CreateNamespace();
        if (fd.ok()) {
          groups_[spec.network_group].netns_fd = *fd;
        } else {
          bad = fd.status();
        }
      }
      if (!bad.ok()) {
        capacity_.Release(spec.id);
        return bad;
      }
      Group& g = groups_[spec.network_group];
      g.members[spec.hostname] = 1;
      group_fd = g.netns_fd;
      inst->address = fmt::format("127.0.1.{}", pos - spec.group_hosts.begin() + 1);
    }
    inst->spec = spec;
    inst->status.running = false;
    instances_[spec.id] = inst;
  }
  // From here on a failure must undo the reservation and the record.
  auto fail = [&](absl::Status s) {
    ReleaseGroup(inst->spec);
    capacity_.Release(spec.id);
    inst->cgroup.reset();
    std::error_code ec;
    if (!inst->state_dir.empty()) fs::remove_all(inst->state_dir, ec);
    std::lock_guard<std::mutex> lock(mu_);
    instances_.erase(spec.id);
    return s;
  };

  std::string nonce = RandomHex(4);
  inst->state_dir = fmt::format("{}/instances/{}-{}", options_.state_dir, spec.id, nonce);
  std::error_code ec;
  fs::create_directories(inst->state_dir, ec);
  if (ec) return fail(absl::InternalError(fmt::format("state dir: {}", ec.message())));
  absl::Status st = WriteText(inst->state_dir + "/hosts", HostsFile(spec, inst->address));
  if (st.ok()) st = WriteText(inst->state_dir + "/hostname", spec.hostname + "\n");
  if (!st.ok()) return fail(st);

  CgroupLimits limits{spec.memory_limit_bytes.value_or(type.memory_bytes), type.vcpus,
                      options_.pids_max};
  auto cg = InstanceCgroup::Create(layout_, options_.cgroup_parent, spec.id + "-" + nonce, limits,
                                   options_.required_cgroup_controllers);
  if (!cg.ok()) return fail(cg.status());
  inst->cgroup = std::move(*cg);
  auto sink = LogSink::Open(spec.log_dir, options_.log_rotation, clock_);
  if (!sink.ok()) return fail(sink.status());
  inst->log = std::move(*sink);

  BwrapInvocation inv;
  inv.bwrap_path = options_.bwrap_path;
  inv.rootfs = spec.rootfs;
  inv.mounts = spec.mounts;
  inv.mounts.push_back({inst->state_dir + "/hosts", "/etc/hosts", true});
  inv.mounts.push_back({inst->state_dir + "/hostname", "/etc/hostname", true});
  inv.devices = capacity_.GpuDevices(spec.id);
  if (!inv.devices.empty()) {
    // The driver's control nodes go with the GPUs; CPU types see no GPU device at all.
    for (const char* ctl : {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"}) {
      if (fs::exists(ctl)) inv.devices.push_back(ctl);
    }
  }
  inv.hostname = spec.hostname;
  inv.unshare_net = group_fd < 0;
  inv.env = spec.env;
  inv.entrypoint = spec.entrypoint;
  inv.args = spec.args;
  auto argv = BuildBwrapArgs(inv);
  if (!argv.ok()) return fail(argv.status());

  st = Launch(*inst, *argv, group_fd);
  if (!st.ok()) {
    // The monitor (if started) saw bwrap exit and released cgroups, capacity and group.
    {
      std::lock_guard<std::mutex> lock(mu_);
      instances_.erase(spec.id);
    }
    if (inst->monitor.joinable()) inst->monitor.join();
    return st;
  }
  return spec.id;
}

absl::Status BwrapRuntime::Launch(Instance& inst, const std::vector<std::string>& argv,
                                  int group_fd) {
  int out[2], err[2], info[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    return absl::InternalError("pipe");
  }
  if (pipe2(info, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]), close(err[0]), close(err[1]);
    return absl::InternalError("pipe");
  }
  // Everything the child touches is prepared here: after fork only async-signal-safe calls.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  char* cenv[] = {nullptr};
  std::vector<int> cg_fds = inst.cgroup->procs_fds();
  const char* bwrap = options_.bwrap_path.c_str();
  pid_t pid = -1;
  int fork_errno = 0;
  launcher_.Run([&] {
    pid = fork();
    if (pid != 0) {
      fork_errno = errno;
      return;
    }
    auto die = [](const char* msg) {
      (void)!write(2, msg, strlen(msg));
      _exit(127);
    };
    // mercatod blocks SIGTERM/SIGINT in every thread to wait for them in main(); the mask
    // is inherited across exec, so clear it or the container would never see SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT}) signal(sig, SIG_DFL);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : cg_fds) {
      if (write(fd, "0", 1) != 1) die("mercato: cannot join the instance cgroup\n");
    }
    if (group_fd >= 0 && setns(group_fd, CLONE_NEWNET) != 0) {
      die("mercato: cannot enter the group network namespace\n");
    }
    if (info[1] == 3) {
      fcntl(3, F_SETFD, 0);
    } else {
      dup2(info[1], 3);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0) dup2(devnull, 0);
    syscall(SYS_close_range, 4, ~0U, 0);
    execve(bwrap, cargv.data(), cenv);
    die("mercato: cannot exec bwrap\n");
  });
  close(out[1]);
  close(err[1]);
  close(info[1]);
  if (pid < 0) {
    close(out[0]), close(err[0]), close(info[0]);
    return absl::InternalError(fmt::format("fork: {}", strerror(fork_errno)));
  }
  inst.bwrap_pid = pid;
  inst.bwrap_pidfd = PidfdOpen(pid);  // our unreaped child: cannot have been reused
  inst.out_fd = out[0];
  inst.err_fd = err[0];
  inst.monitor = std::thread([this, p = &inst] { Monitor(p); });

  auto child = ReadChildPid(info[0], options_.start_timeout);
  close(info[0]);
  absl::Status result;
  if (child.ok()) {
    // The entrypoint is bwrap's child: alive until bwrap reaps it, so these refer to it.
    int pidfd = PidfdOpen(*child);
    int nsfd = group_fd >= 0
                   ? fcntl(group_fd, F_DUPFD_CLOEXEC, 0)
                   : open(fmt::format("/proc/{}/ns/net", *child).c_str(), O_RDONLY | O_CLOEXEC);
    std::lock_guard<std::mutex> lock(mu_);
    inst.child_pidfd = pidfd;
    inst.netns_fd = nsfd;
    if (!inst.exited) {
      inst.status.running = true;
      inst.status.pid = *child;
    }
    cv_.notify_all();
    // An entrypoint that exits at once may be gone (or a zombie) before we look: that is a
    // fast exit, which the monitor records, not a failure to start.
    if ((pidfd < 0 || nsfd < 0) && !ProcessEndsSoon(*child)) {
      result = absl::InternalError("cannot open the sandbox's pid/netns");
    }
  } else {
    result = child.status();
  }
  if (!result.ok()) {
    PidfdSignal(inst.bwrap_pidfd, SIGKILL);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return inst.exited; });
    std::string why = inst.log ? inst.log->LastLine("stderr") : "";
    if (!why.empty())
      result = absl::InternalError(fmt::format("{}: {}", std::string(result.message()), why));
  }
  return result;
}

void BwrapRuntime::Monitor(Instance* inst) {
  int wait_status = 0;
  bool reaped = false;
  absl::Time drain_deadline = absl::InfiniteFuture();
  char buf[65536];
  while (inst->out_fd >= 0 || inst->err_fd >= 0) {
    pollfd fds[3] = {{inst->out_fd, POLLIN, 0},
                     {inst->err_fd, POLLIN, 0},
                     {reaped ? -1 : inst->bwrap_pidfd, POLLIN, 0}};
    int r = poll(fds, 3, reaped ? 100 : -1);
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        inst->log->Append(i == 0 ? "stdout" : "stderr", std::string_view(buf, n));
      } else if (n == 0 || errno != EINTR) {
        CloseFd(i == 0 ? inst->out_fd : inst->err_fd);
      }
    }
    if (!reaped && (fds[2].revents & POLLIN)) {
      waitpid(inst->bwrap_pid, &wait_status, 0);
      reaped = true;
      // Every writer died with the namespace; anything still open is drained briefly.
      drain_deadline = absl::Now() + absl::Seconds(2);
    }
    if (reaped && absl::Now() > drain_deadline) break;
  }
  if (!reaped) waitpid(inst->bwrap_pid, &wait_status, 0);
  CloseFd(inst->out_fd);
  CloseFd(inst->err_fd);
  Finish(*inst, wait_status);
}

void BwrapRuntime::Finish(Instance& inst, int wait_status) {
  inst.log->Close();
  bool oom = inst.cgroup && inst.cgroup->OomKilled();
  if (inst.cgroup) {
    absl::Status s = inst.cgroup->Remove();
    if (!s.ok()) spdlog::warn("sandbox: instance {}: {}", inst.spec.id, s.ToString());
  }
  std::error_code ec;
  fs::remove_all(inst.state_dir, ec);
  capacity_.Release(inst.spec.id);
  ReleaseGroup(inst.spec);
  std::lock_guard<std::mutex> lock(mu_);
  CloseFd(inst.bwrap_pidfd);
  CloseFd(inst.child_pidfd);
  CloseFd(inst.netns_fd);
  InstanceStatus& s = inst.status;
  s.running = false;
  s.pid = 0;
  s.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  s.signal = s.exit_code > 128 && s.exit_code <= 128 + 64 ? s.exit_code - 128 : 0;
  s.oom_killed = oom;
  s.reason = oom                   ? "OutOfMemory"
             : inst.stop_requested ? "Stopped"
             : s.exit_code == 0    ? "Completed"
                                   : "Error";
  inst.exited = true;
  cv_.notify_all();
}

void BwrapRuntime::ReleaseGroup(const InstanceSpec& spec) {
  if (spec.network_group.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(spec.network_group);
  if (it == groups_.end()) return;
  it->second.members.erase(spec.hostname);
  if (it->second.members.empty()) {
    CloseFd(it->second.netns_fd);  // the namespace ends with its last reference
    groups_.erase(it);
  }
}

absl::Status BwrapRuntime::Stop(const InstanceId& id, absl::Duration grace) {
  auto inst = Find(id);
  if (!inst) return absl::NotFoundError(fmt::format("no instance {}", id));
  std::unique_lock<std::mutex> lock(mu_);
  inst->stop_requested = true;
  // A Start still in flight first learns the entrypoint's pid (or fails).
  cv_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.start_timeout)),
               [&] { return inst->exited || inst->status.running; });
  if (inst->exited) return absl::OkStatus();
  // PID 1 of the instance gets SIGTERM as under Docker; SIGKILL to it ends the namespace.
  int target = inst->child_pidfd >= 0 ? inst->child_pidfd : inst->bwrap_pidfd;
  PidfdSignal(target, inst->child_pidfd >= 0 ? SIGTERM : SIGKILL);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(absl::ToInt64Milliseconds(grace));
  if (!cv_.wait_until(lock, deadline, [&] { return inst->exited; })) {
    // Killing PID 1 ends the namespace; bwrap then reaps it and exits. bwrap itself is killed
    // only if that fails: its orphaned child would become a zombie of the host's init.
    if (inst->child_pidfd >= 0) PidfdSignal(inst->child_pidfd, SIGKILL);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return inst->exited; })) {
      if (inst->bwrap_pidfd >= 0) PidfdSignal(inst->bwrap_pidfd, SIGKILL);
      if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return inst->exited; })) {
        return absl::InternalError(fmt::format("instance {} did not exit after SIGKILL", id));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<InstanceStatus> BwrapRuntime::Wait(const InstanceId& id, absl::Duration timeout) {
  auto inst = Find(id);
  if (!inst) return absl::NotFoundError(fmt::format("no instance {}", id));
  std::unique_lock<std::mutex> lock(mu_);
  auto ms = std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
  if (!cv_.wait_for(lock, ms, [&] { return inst->exited; })) {
    return absl::DeadlineExceededError(fmt::format("instance {} still running", id));
  }
  return inst->status;
}

absl::StatusOr<InstanceStatus> BwrapRuntime::Status(const InstanceId& id) {
  auto inst = Find(id);
  if (!inst) return absl::NotFoundError(fmt::format("no instance {}", id));
  std::lock_guard<std::mutex> lock(mu_);
  return inst->status;
}

absl::StatusOr<int> BwrapRuntime::Dial(const InstanceId& id, int port, absl::Duration timeout) {
  auto inst = Find(id);
  if (!inst) return absl::NotFoundError(fmt::format("no instance {}", id));
  int nsfd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!inst->status.running || inst->netns_fd < 0) {
      return absl::FailedPreconditionError(fmt::format("instance {} is not running", id));
    }
    // A private dup: the monitor may close the instance's fd while we dial.
    nsfd = fcntl(inst->netns_fd, F_DUPFD_CLOEXEC, 0);
  }
  if (nsfd < 0) return absl::InternalError("dup netns fd");
  auto fd = netns_->Dial(nsfd, inst->address, port, timeout);
  close(nsfd);
  if (fd.ok()) {
    // Callers speak request/response HTTP: never let a small write wait for a delayed ACK.
    int one = 1;
    setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

absl::StatusOr<LogReaderPtr> BwrapRuntime::Logs(const InstanceId& id) {
  auto inst = Find(id);
  if (!inst) return absl::NotFoundError(fmt::format("no instance {}", id));
  return LogReaderPtr(std::make_unique<FileLogReader>(inst->spec.log_dir));
}

absl::Status BwrapRuntime::Forget(const InstanceId& id) {
  auto inst = Find(id);
  if (!inst) return absl::NotFoundError(fmt::format("no instance {}", id));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!inst->exited) return absl::FailedPreconditionError(fmt::format("{} is running", id));
    // Whoever erases the record joins its monitor, exactly once.
    if (instances_.erase(id) == 0) return absl::NotFoundError(fmt::format("no instance {}", id));
  }
  if (inst->monitor.joinable()) inst->monitor.join();
  return absl::OkStatus();
}

}  // namespace mercato::sandbox
