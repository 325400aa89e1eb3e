#include "sandbox/cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "base/status.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato::sandbox {
namespace {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (b.empty() || b == "/") return out.empty() ? "/" : out;
  if (b.front() != '/') out += '/';
  out += b;
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& path, std::string_view value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(fmt::format("open {}: {}", path, strerror(errno)));
  ssize_t n = write(fd, value.data(), value.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return absl::InternalError(fmt::format("write '{}' to {}: {}", value, path, strerror(err)));
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(fmt::format("mkdir {}: {}", path, strerror(errno)));
  }
  return absl::OkStatus();
}

// Value of `key` in a "key value" per line file such as memory.events.
int64_t KeyedValue(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string k;
  int64_t v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

// cgroup v2: lets children of `dir` use `controllers`, first moving any processes of a
// non-root `dir` into a leaf (the "no internal processes" rule).
absl::Status EnableV2Controllers(const std::string& dir, const std::vector<std::string>& ctrls,
                                 std::string_view leaf_name, bool is_root) {
  std::string subtree = ReadFile(dir + "/cgroup.subtree_control").value_or("");
  std::string want;
  for (const auto& c : ctrls) {
    if (subtree.find(c) == std::string::npos) want += "+" + c + " ";
  }
  if (want.empty()) return absl::OkStatus();
  if (!is_root) {
    std::string procs = ReadFile(dir + "/cgroup.procs").value_or("");
    if (!procs.empty()) {
      std::string leaf = JoinPath(dir, leaf_name);
      RETURN_IF_ERROR(MakeDir(leaf));
      std::istringstream in(procs);
      std::string pid;
      while (in >> pid) {
        // A process may have exited meanwhile; the retry below catches real failures.
        (void)WriteFile(leaf + "/cgroup.procs", pid);
      }
    }
  }
  want.pop_back();
  return WriteFile(dir + "/cgroup.subtree_control", want);
}

}  // namespace

absl::StatusOr<CgroupLayout> CgroupLayout::Parse(std::string_view proc_self_cgroup,
                                                 std::string_view mountinfo) {
  // Mount points: v1 controller → (mount point, hierarchy root); v2 → same.
  struct MountPoint {
    std::string dir, root;
  };
  std::map<std::string, MountPoint> v1_mounts;
  std::optional<MountPoint> v2_mount;
  for (const auto& line : Split(mountinfo, '\n')) {
    auto f = Split(line, ' ');
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash < 5 || dash + 1 >= f.size()) continue;
    const std::string& fstype = f[dash + 1];
    MountPoint mp{f[4], f[3]};
    if (fstype == "cgroup2") {
      if (!v2_mount) v2_mount = mp;
    } else if (fstype == "cgroup" && dash + 3 < f.size()) {
      for (const auto& opt : Split(f[dash + 3], ',')) {
        if (!v1_mounts.count(opt)) v1_mounts[opt] = mp;
      }
    }
  }
  auto relative = [](const std::string& path, const std::string& root) {
    if (root != "/" && path.rfind(root, 0) == 0) return path.substr(root.size());
    return path;
  };
  CgroupLayout layout;
  for (const auto& line : Split(proc_self_cgroup, '\n')) {
    if (line.empty()) continue;
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (ctrls.empty()) {
      if (v2_mount) layout.v2_dir = JoinPath(v2_mount->dir, relative(path, v2_mount->root));
      continue;
    }
    for (const auto& c : Split(ctrls, ',')) {
      auto it = v1_mounts.find(c);
      if (it == v1_mounts.end()) continue;
      layout.v1_dirs[c] = JoinPath(it->second.dir, relative(path, it->second.root));
    }
  }
  return layout;
}

absl::StatusOr<CgroupLayout> CgroupLayout::Detect() {
  auto cg = ReadFile("/proc/self/cgroup");
  auto mi = ReadFile("/proc/self/mountinfo");
  if (!cg || !mi) return absl::InternalError("cannot read /proc/self/cgroup or mountinfo");
  return Parse(*cg, *mi);
}

void RemoveCgroupParent(const CgroupLayout& layout, std::string_view parent_name) {
  for (const auto& [c, dir] : layout.v1_dirs) rmdir(JoinPath(dir, parent_name).c_str());
  if (layout.v2_dir) rmdir(JoinPath(*layout.v2_dir, parent_name).c_str());
}

absl::StatusOr<std::unique_ptr<InstanceCgroup>> InstanceCgroup::Create(
    const CgroupLayout& layout, std::string_view parent_name, std::string_view name,
    const CgroupLimits& limits, const std::vector<std::string>& required) {
  std::unique_ptr<InstanceCgroup> cg(new InstanceCgroup());
  // controller → directory of the instance cgroup serving it.
  std::map<std::string, std::string> dir_for;
  std::vector<std::string> v2_ctrls;
  std::string v2_available;
  if (layout.v2_dir) v2_available = ReadFile(*layout.v2_dir + "/cgroup.controllers").value_or("");
  for (const char* c : {"memory", "cpu", "pids"}) {
    auto it = layout.v1_dirs.find(c);
    if (it != layout.v1_dirs.end() && Exists(it->second)) {
      std::string parent = JoinPath(it->second, parent_name);
      RETURN_IF_ERROR(MakeDir(parent));
      dir_for[c] = JoinPath(parent, name);
    } else if (layout.v2_dir && v2_available.find(c) != std::string::npos) {
      v2_ctrls.push_back(c);
    }
  }
  if (!v2_ctrls.empty()) {
    // The root cgroup is the only one without a cgroup.type file.
    bool is_root = !Exists(*layout.v2_dir + "/cgroup.type");
    std::string parent = JoinPath(*layout.v2_dir, parent_name);
    RETURN_IF_ERROR(EnableV2Controllers(*layout.v2_dir, v2_ctrls,
                                        std::string(parent_name) + "-daemon", is_root));
    RETURN_IF_ERROR(MakeDir(parent));
    RETURN_IF_ERROR(EnableV2Controllers(parent, v2_ctrls, "", true));
    for (const auto& c : v2_ctrls) dir_for[c] = JoinPath(parent, name);
  }
  for (const auto& c : required) {
    if (!dir_for.count(c)) {
      return absl::FailedPreconditionError(fmt::format(
          "cgroup controller '{}' is not available to this process (neither a writable v1 "
          "hierarchy nor enabled in the v2 cgroup {})",
          c, layout.v2_dir.value_or("(none)")));
    }
  }
  std::set<std::string> dirs;
  for (const auto& [c, d] : dir_for) dirs.insert(d);
  for (const auto& d : dirs) {
    RETURN_IF_ERROR(MakeDir(d));
    cg->dirs_.push_back(d);
  }
  auto is_v2 = [&](const std::string& c) {
    return std::find(v2_ctrls.begin(), v2_ctrls.end(), c) != v2_ctrls.end();
  };
  if (dir_for.count("memory")) {
    cg->memory_dir_ = dir_for["memory"];
    cg->memory_v2_ = is_v2("memory");
    if (limits.memory_bytes > 0) {
      std::string v = std::to_string(limits.memory_bytes);
      if (cg->memory_v2_) {
        RETURN_IF_ERROR(WriteFile(cg->memory_dir_ + "/memory.max", v));
        if (Exists(cg->memory_dir_ + "/memory.swap.max")) {
          (void)WriteFile(cg->memory_dir_ + "/memory.swap.max", "0");
        }
      } else {
        RETURN_IF_ERROR(WriteFile(cg->memory_dir_ + "/memory.limit_in_bytes", v));
        // Without swap accounting this file is absent; with it, forbid swapping past the limit.
        if (Exists(cg->memory_dir_ + "/memory.memsw.limit_in_bytes")) {
          (void)WriteFile(cg->memory_dir_ + "/memory.memsw.limit_in_bytes", v);
        }
      }
    }
  }
  if (dir_for.count("cpu") && limits.vcpus > 0) {
    const std::string& d = dir_for["cpu"];
    int64_t period = 100000;
    int64_t quota = static_cast<int64_t>(std::llround(limits.vcpus * period));
    if (is_v2("cpu")) {
      RETURN_IF_ERROR(WriteFile(d + "/cpu.max", fmt::format("{} {}", quota, period)));
    } else {
      RETURN_IF_ERROR(WriteFile(d + "/cpu.cfs_period_us", std::to_string(period)));
      RETURN_IF_ERROR(WriteFile(d + "/cpu.cfs_quota_us", std::to_string(quota)));
    }
  }
  if (dir_for.count("pids") && limits.pids_max > 0) {
    RETURN_IF_ERROR(WriteFile(dir_for["pids"] + "/pids.max", std::to_string(limits.pids_max)));
  }
  for (const auto& d : cg->dirs_) {
    std::string path = d + "/cgroup.procs";
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError(fmt::format("open {}: {}", path, strerror(errno)));
    cg->procs_fds_.push_back(fd);
  }
  return cg;
}

InstanceCgroup::~InstanceCgroup() {
  if (!removed_) {
    absl::Status s = Remove(absl::Seconds(2));
    if (!s.ok()) spdlog::warn("sandbox: {}", s.ToString());
  }
  for (int fd : procs_fds_) close(fd);
}

bool InstanceCgroup::OomKilled() const {
  if (memory_dir_.empty()) return false;
  if (memory_v2_) {
    return KeyedValue(ReadFile(memory_dir_ + "/memory.events").value_or(""), "oom_kill") > 0;
  }
  std::string ctl = ReadFile(memory_dir_ + "/memory.oom_control").value_or("");
  if (ctl.find("oom_kill ") != std::string::npos) return KeyedValue(ctl, "oom_kill") > 0;
  // Kernels before 4.13 lack the counter: hitting the limit is the best evidence left.
  return KeyedValue("failcnt " + ReadFile(memory_dir_ + "/memory.failcnt").value_or("0"),
                    "failcnt") > 0;
}

std::vector<pid_t> InstanceCgroup::Pids() const {
  std::set<pid_t> pids;
  for (const auto& d : dirs_) {
    std::istringstream in(ReadFile(d + "/cgroup.procs").value_or(""));
    pid_t p;
    while (in >> p) pids.insert(p);
  }
  return {pids.begin(), pids.end()};
}

void InstanceCgroup::KillAll() const {
  for (pid_t p : Pids()) kill(p, SIGKILL);
}

absl::Status InstanceCgroup::Remove(absl::Duration timeout) {
  if (removed_) return absl::OkStatus();
  absl::Time deadline = absl::Now() + timeout;
  while (!Pids().empty()) {
    if (absl::Now() > deadline) {
      return absl::InternalError(
          fmt::format("cgroup {} still has processes", dirs_.empty() ? "" : dirs_[0]));
    }
    KillAll();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  absl::Status result;
  for (const auto& d : dirs_) {
    // rmdir can fail with EBUSY briefly while the last member is being torn down.
    int tries = 0;
    while (rmdir(d.c_str()) != 0 && errno != ENOENT) {
      if (errno != EBUSY || ++tries > 200) {
        result = absl::InternalError(fmt::format("rmdir {}: {}", d, strerror(errno)));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  removed_ = true;
  return result;
}

}  // namespace mercato::sandbox
