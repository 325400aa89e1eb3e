// BwrapRuntime: the embedded ContainerRuntime. Each instance is one bubblewrap sandbox:
//
//   launcher thread ── fork ──> child: join the instance cgroups, setns into the group's
//                               network namespace (if any), exec bwrap
//   bwrap (host pid P, in the cgroups) ──> entrypoint as PID 1 of new PID/IPC/UTS/net/cgroup
//                                          namespaces, read-only rootfs skeleton, mounts
//
// so no process of the instance ever runs outside its limits. bwrap reports the entrypoint's
// host pid on --info-fd; the runtime holds pidfds (never bare pids, so no pid-reuse races) and
// the namespace fd used by Dial. One monitor thread per instance copies stdout/stderr into the
// log files, reaps bwrap and, when the instance ends, records OOM kills, empties and removes
// the cgroups and releases capacity and addresses.
//
// Requirements: root (or CAP_SYS_ADMIN) for cgroups, setns and bwrap without a user
// namespace; bubblewrap >= 0.5. Instances die with the runtime (--die-with-parent); the
// destructor stops them with `shutdown_grace`. Thread-safe, like the interface.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "sandbox/cgroups.h"
#include "sandbox/container_runtime.h"
#include "sandbox/instance_types.h"
#include "sandbox/log_files.h"
#include "sandbox/netns.h"

namespace mercato::sandbox {

class BwrapRuntime final : public ContainerRuntime {
 public:
  struct Options {
    std::string bwrap_path = "/usr/bin/bwrap";
    // Per-instance generated files (/etc/hosts, /etc/hostname) live under
    // <state_dir>/instances/; required.
    std::string state_dir;
    // Instance cgroups go to <own cgroup>/<cgroup_parent>/<id>-<nonce>.
    std::string cgroup_parent = "mercato";
    std::vector<std::string> required_cgroup_controllers = {"memory", "cpu", "pids"};
    int64_t pids_max = 4096;  // per instance
    InstanceTypes instance_types = InstanceTypes::Default();
    CapacityAccountant::Options capacity;
    LogRotation log_rotation;
    absl::Duration start_timeout = absl::Seconds(10);  // bwrap reporting the child pid
    absl::Duration shutdown_grace = absl::Seconds(2);  // per instance, in the destructor
    const Clock* clock = nullptr;                      // timestamps of log lines; real if null
  };

  // Fails if bwrap is missing or cgroups/netns are unusable.
  static absl::StatusOr<std::unique_ptr<BwrapRuntime>> Create(Options options);
  ~BwrapRuntime() override;

  absl::StatusOr<InstanceId> Start(const InstanceSpec& spec) override;
  absl::Status Stop(const InstanceId& id, absl::Duration grace) override;
  absl::StatusOr<InstanceStatus> Wait(const InstanceId& id, absl::Duration timeout) override;
  absl::StatusOr<InstanceStatus> Status(const InstanceId& id) override;
  absl::StatusOr<int> Dial(const InstanceId& id, int port,
                           absl::Duration timeout = absl::Seconds(2)) override;
  absl::StatusOr<LogReaderPtr> Logs(const InstanceId& id) override;
  absl::Status Forget(const InstanceId& id) override;

  const CapacityAccountant& capacity() const { return capacity_; }

 private:
  struct Instance;
  struct Group {
    int netns_fd = -1;
    std::map<std::string, int> members;  // hostname → count (one each)
  };

  BwrapRuntime(Options options, CgroupLayout layout, std::unique_ptr<NetnsHelper> netns);
  absl::Status Launch(Instance& inst, const std::vector<std::string>& argv, int group_fd);
  void Monitor(Instance* inst);
  void Finish(Instance& inst, int wait_status);
  void ReleaseGroup(const InstanceSpec& spec);
  std::shared_ptr<Instance> Find(const InstanceId& id);

  Options options_;
  std::unique_ptr<Clock> own_clock_;
  const Clock& clock_;
  CgroupLayout layout_;
  CapacityAccountant capacity_;
  std::unique_ptr<NetnsHelper> netns_;
  TaskThread launcher_;  // every fork happens here (see TaskThread)

  std::mutex mu_;
  std::condition_variable cv_;  // signalled whenever an instance changes state
  // shared_ptr: a record is read by callers blocked in Wait/Stop while Forget may drop it.
  std::map<InstanceId, std::shared_ptr<Instance>> instances_;
  std::map<std::string, Group> groups_;
};

}  // namespace mercato::sandbox
