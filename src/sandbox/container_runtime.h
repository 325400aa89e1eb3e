// ContainerRuntime: runs seller containers ("instances") in isolation and is the only way the
// rest of Mercato touches them. The embedded driver is BwrapRuntime (bwrap_runtime.h); a fake
// or a Docker/Kubernetes driver can sit behind the same interface.
//
// Contract:
// - An instance runs `entrypoint args...` from a read-only rootfs with its own PID, IPC, UTS
//   and network namespaces. Its network namespace has only loopback, so it can reach nothing
//   outside; instances that share a `network_group` share one namespace and find each other
//   by the names in `group_hosts` (algo-1..algo-N), each on its own 127.0.1.N address.
// - The platform reaches a port inside an instance only through Dial(), which returns a
//   socket created inside the instance's network namespace; the caller owns the fd.
// - Resources (CPU, memory, GPUs) come from the instance type; starting beyond the host's
//   capacity fails with ResourceExhausted before anything runs.
// - stdout/stderr go, line by line and timestamped, to rotating files in `log_dir`;
//   Logs() reads them back (the log files outlive the instance).
// - Stop() sends SIGTERM to the entrypoint (PID 1 of the instance, as in Docker), then
//   SIGKILL after the grace period; when it returns OK no process of the instance is left.
// - An instance that exits on its own releases its resources at once; its record (Status,
//   Wait) stays until Forget().
// All methods are thread-safe. Errors: InvalidArgument (bad spec), AlreadyExists (id in
// use), NotFound (unknown id), ResourceExhausted (capacity), FailedPrecondition (not
// running), DeadlineExceeded (Wait timed out), Internal/Unavailable (OS failures).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mercato::sandbox {

using InstanceId = std::string;

// A host directory made visible inside the instance.
struct Mount {
  std::string host_path;       // absolute path on the host; must exist
  std::string container_path;  // absolute path inside the instance, e.g. /opt/ml/model
  bool read_only = true;
};

struct InstanceSpec {
  InstanceId id;                  // unique among live instances; [A-Za-z0-9._-]{1,128}
  std::string rootfs;             // host directory holding the unpacked image; never written
  std::string entrypoint;         // argv[0], a path inside the rootfs
  std::vector<std::string> args;  // e.g. {"serve"} or {"train"}
  std::map<std::string, std::string> env;  // the whole environment (PATH added if absent)
  std::vector<Mount> mounts;
  std::string instance_type;  // a name from InstanceTypes, e.g. "ml.m5.large"
  // Overrides the instance type's memory limit (bytes) when set; capacity is still
  // accounted with the type's figures.
  std::optional<int64_t> memory_limit_bytes;
  // Instances with the same non-empty group share one network namespace; empty means a
  // namespace of its own.
  std::string network_group;
  // Host names of the group in order (algo-1..algo-N); host i gets address 127.0.1.(i+1).
  // Must contain `hostname` when `network_group` is set.
  std::vector<std::string> group_hosts;
  std::string hostname;  // defaults to the id
  std::string log_dir;   // created if missing; receives container.log (+ .1, .2, ...)
};

struct InstanceStatus {
  bool running = false;
  int pid = 0;         // host pid of the instance's PID 1 while running (diagnostics only)
  int exit_code = -1;  // when exited; 128+N when killed by signal N (shell convention)
  int signal = 0;      // N when the entrypoint was killed by signal N
  bool oom_killed = false;
  // "" while running; then "Completed" (exit 0), "Error" (non-zero exit), "OutOfMemory"
  // (killed by the memory limit) or "Stopped" (ended by Stop()).
  std::string reason;
};

// One line the instance wrote.
struct LogEvent {
  absl::Time time;
  std::string stream;  // "stdout" or "stderr"
  std::string message;
};

// Reads an instance's log stream from the start, then follows it: each Read() returns the
// complete lines written since the previous call (possibly none). Rotation is handled; lines
// rotated away beyond the kept files are lost. Not thread-safe; one reader per caller.
class LogReader {
 public:
  virtual ~LogReader() = default;
  virtual absl::StatusOr<std::vector<LogEvent>> Read(size_t max_events = 10000) = 0;
};
using LogReaderPtr = std::unique_ptr<LogReader>;

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  // Starts an instance and returns once its process runs inside all of its namespaces and
  // limits (not once its server is ready: poll Dial for that). Failures inside the sandbox
  // after that point (a missing entrypoint, a mount the image cannot take) end the instance
  // with reason "Error" and the cause on its stderr log.
  virtual absl::StatusOr<InstanceId> Start(const InstanceSpec& spec) = 0;

  // SIGTERM, then SIGKILL after `grace`; returns when every process of the instance is gone.
  // Stopping an instance that already exited is OK.
  virtual absl::Status Stop(const InstanceId& id, absl::Duration grace) = 0;

  // Blocks until the instance exits or `timeout` passes (DeadlineExceeded).
  virtual absl::StatusOr<InstanceStatus> Wait(const InstanceId& id, absl::Duration timeout) = 0;

  virtual absl::StatusOr<InstanceStatus> Status(const InstanceId& id) = 0;

  // A TCP socket connected to `port` on the instance's own address (127.0.0.1, or its
  // 127.0.1.N group address), created inside the instance's network namespace. The caller
  // owns the returned fd and may use it from any thread. Unavailable if nothing listens.
  virtual absl::StatusOr<int> Dial(const InstanceId& id, int port,
                                   absl::Duration timeout = absl::Seconds(2)) = 0;

  virtual absl::StatusOr<LogReaderPtr> Logs(const InstanceId& id) = 0;

  // Drops the record of an exited instance (FailedPrecondition while running).
  virtual absl::Status Forget(const InstanceId& id) = 0;
};
using ContainerRuntimePtr = std::unique_ptr<ContainerRuntime>;

}  // namespace mercato::sandbox
