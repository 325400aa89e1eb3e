// Cgroups for instances: memory, CPU and pids limits, membership from before the first exec,
// OOM detection, and removal.
//
// Instance cgroups are created beneath this process's own cgroup (from /proc/self/cgroup),
// under `<own>/<parent_name>/<name>`, never at a hierarchy root we do not own. Each of the
// controllers memory, cpu and pids comes from a cgroup v1 hierarchy when one is mounted
// with it, else from the v2 (unified) hierarchy; hosts mixing both (v1 controllers with a
// v2 mount beside) are common.
//
// cgroup v2 forbids processes in a cgroup that hands controllers to its children, so when
// our own v2 cgroup is not the root and still holds processes, Create() first moves them
// into a leaf `<own>/<parent_name>-daemon` (what systemd's Delegate= expects of a service).
//
// An InstanceCgroup is owned by one instance; its methods are not thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mercato::sandbox {

// Where this process's cgroups live.
struct CgroupLayout {
  std::map<std::string, std::string> v1_dirs;  // controller → own cgroup dir (v1)
  std::optional<std::string> v2_dir;           // own cgroup dir in the unified hierarchy

  // Parses the texts of /proc/self/cgroup and /proc/self/mountinfo.
  static absl::StatusOr<CgroupLayout> Parse(std::string_view proc_self_cgroup,
                                            std::string_view mountinfo);
  static absl::StatusOr<CgroupLayout> Detect();
};

// Best-effort rmdir of <own>/<parent_name> in every hierarchy (fails quietly while in use).
void RemoveCgroupParent(const CgroupLayout& layout, std::string_view parent_name);

struct CgroupLimits {
  int64_t memory_bytes = 0;  // 0 = no limit
  double vcpus = 0;          // 0 = no quota
  int64_t pids_max = 0;      // 0 = no limit
};

class InstanceCgroup {
 public:
  // Creates the cgroup(s) and applies `limits`. Every controller in `required` must be
  // available (FailedPrecondition naming it otherwise).
  static absl::StatusOr<std::unique_ptr<InstanceCgroup>> Create(
      const CgroupLayout& layout, std::string_view parent_name, std::string_view name,
      const CgroupLimits& limits,
      const std::vector<std::string>& required = {"memory", "cpu", "pids"});
  ~InstanceCgroup();  // best-effort Remove()

  // Open O_WRONLY fds of each cgroup.procs file. A child process joins every cgroup by
  // writing "0" to each (async-signal-safe, so it works between fork and exec).
  const std::vector<int>& procs_fds() const { return procs_fds_; }

  bool OomKilled() const;           // the memory controller OOM-killed a member
  std::vector<pid_t> Pids() const;  // members, from every hierarchy
  void KillAll() const;             // SIGKILL every member
  // Waits (bounded) until no member is left, then removes the directories.
  absl::Status Remove(absl::Duration timeout = absl::Seconds(5));

  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  InstanceCgroup() = default;
  std::vector<std::string> dirs_;  // deepest first when removing
  std::string memory_dir_;
  bool memory_v2_ = false;
  std::vector<int> procs_fds_;
  bool removed_ = false;
};

}  // namespace mercato::sandbox
