// Instance types (SageMaker's ml.* names → vCPU, memory, GPUs) and the host capacity they
// are accounted against.
//
// InstanceTypes is a plain value table: Default() holds the common SageMaker types; tests and
// operators Add() their own (e.g. a 64 MiB type). CapacityAccountant reserves an instance's
// share of the host when it starts and releases it when it ends, so over-asking fails up
// front with ResourceExhausted and a message naming what was asked and what is free.
//
// Overcommit: a small host (a 2-core laptop, a CI runner) must still run several small
// instances, and most instances idle most of the time, so the accountant lets the sum of
// vCPUs reach `cpu_overcommit` x the host's cores (default 8x) and the sum of memory limits
// reach `memory_overcommit` x the host's RAM (default 1.5x). Each instance's cgroup still
// enforces its own limits. GPUs are never overcommitted; a GPU type on a host without GPUs
// always fails. CapacityAccountant is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mercato::sandbox {

inline constexpr int64_t kGiB = int64_t{1} << 30;
inline constexpr int64_t kMiB = int64_t{1} << 20;

struct InstanceType {
  std::string name;
  double vcpus = 0;
  int64_t memory_bytes = 0;
  int gpus = 0;
};

class InstanceTypes {
 public:
  // The common SageMaker types (ml.t2, t3, m5, c5, r5, g4dn, g5, p3).
  static InstanceTypes Default();

  void Add(InstanceType type);  // replaces a type of the same name
  absl::StatusOr<InstanceType> Find(std::string_view name) const;  // InvalidArgument with a hint
  const std::map<std::string, InstanceType, std::less<>>& all() const { return types_; }

 private:
  std::map<std::string, InstanceType, std::less<>> types_;
};

struct HostResources {
  double vcpus = 0;
  int64_t memory_bytes = 0;
  int gpus = 0;
  // Device nodes of the GPUs (e.g. /dev/nvidia0), one per GPU, when known.
  std::vector<std::string> gpu_devices;
  // Cores usable by this process (sched_getaffinity), MemTotal from /proc/meminfo, and the
  // NVIDIA GPUs whose /dev/nvidiaN nodes exist.
  static HostResources Detect();
};

class CapacityAccountant {
 public:
  struct Options {
    std::optional<HostResources> host;  // detected when unset
    double cpu_overcommit = 8.0;
    double memory_overcommit = 1.5;
  };
  explicit CapacityAccountant(Options options);

  // Reserves `type` for `instance_id`; ResourceExhausted when it does not fit.
  absl::Status Reserve(std::string_view instance_id, const InstanceType& type);
  void Release(std::string_view instance_id);  // no-op for unknown ids
  // The device nodes of the GPUs reserved for `instance_id` (empty for CPU types). A GPU
  // belongs to one instance at a time.
  std::vector<std::string> GpuDevices(std::string_view instance_id) const;

  // Capacity (with overcommit) minus reservations.
  HostResources Free() const;
  const HostResources& host() const { return host_; }

 private:
  HostResources host_;
  double cpu_capacity_;
  int64_t memory_capacity_;
  mutable std::mutex mu_;
  std::map<std::string, InstanceType, std::less<>> reserved_;
  std::vector<std::string> gpu_owner_;  // per GPU index: the instance holding it, or ""
  double used_vcpus_ = 0;
  int64_t used_memory_ = 0;
  int used_gpus_ = 0;
};

// "16 GiB", "64 MiB", "1.5 GiB".
std::string FormatBytes(int64_t bytes);

}  // namespace mercato::sandbox
