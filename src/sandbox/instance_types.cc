#include "sandbox/instance_types.h"

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "fmt/format.h"

namespace mercato::sandbox {

InstanceTypes InstanceTypes::Default() {
  InstanceTypes t;
  struct Row {
    const char* name;
    double vcpus;
    int64_t gib;
    int gpus;
  };
  static constexpr Row kRows[] = {
      {"ml.t2.medium", 2, 4, 0},    {"ml.t2.large", 2, 8, 0},     {"ml.t2.xlarge", 4, 16, 0},
      {"ml.t3.medium", 2, 4, 0},    {"ml.t3.large", 2, 8, 0},     {"ml.t3.xlarge", 4, 16, 0},
      {"ml.m5.large", 2, 8, 0},     {"ml.m5.xlarge", 4, 16, 0},   {"ml.m5.2xlarge", 8, 32, 0},
      {"ml.m5.4xlarge", 16, 64, 0}, {"ml.c5.large", 2, 4, 0},     {"ml.c5.xlarge", 4, 8, 0},
      {"ml.c5.2xlarge", 8, 16, 0},  {"ml.c5.4xlarge", 16, 32, 0}, {"ml.r5.large", 2, 16, 0},
      {"ml.r5.xlarge", 4, 32, 0},   {"ml.g4dn.xlarge", 4, 16, 1}, {"ml.g4dn.2xlarge", 8, 32, 1},
      {"ml.g5.xlarge", 4, 16, 1},   {"ml.p3.2xlarge", 8, 61, 1},  {"ml.p3.8xlarge", 32, 244, 4},
  };
  for (const Row& r : kRows) t.Add({r.name, r.vcpus, r.gib * kGiB, r.gpus});
  return t;
}

void InstanceTypes::Add(InstanceType type) {
  std::string name = type.name;
  types_[name] = std::move(type);
}

absl::StatusOr<InstanceType> InstanceTypes::Find(std::string_view name) const {
  auto it = types_.find(name);
  if (it == types_.end()) {
    return absl::InvalidArgumentError(
        fmt::format("unknown instance type '{}' (e.g. ml.m5.large, ml.c5.xlarge)", name));
  }
  return it->second;
}

HostResources HostResources::Detect() {
  HostResources h;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    h.vcpus = CPU_COUNT(&set);
  } else {
    h.vcpus = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      h.memory_bytes = kb * 1024;
      break;
    }
  }
  if (h.memory_bytes == 0) h.memory_bytes = sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
  for (int i = 0; i < 64; ++i) {
    std::string dev = fmt::format("/dev/nvidia{}", i);
    if (access(dev.c_str(), F_OK) != 0) break;
    h.gpu_devices.push_back(dev);
  }
  h.gpus = static_cast<int>(h.gpu_devices.size());
  return h;
}

CapacityAccountant::CapacityAccountant(Options options)
    : host_(options.host ? *options.host : HostResources::Detect()),
      cpu_capacity_(host_.vcpus * options.cpu_overcommit),
      memory_capacity_(static_cast<int64_t>(static_cast<double>(host_.memory_bytes) *
                                            options.memory_overcommit)),
      gpu_owner_(static_cast<size_t>(std::max(host_.gpus, 0))) {}

absl::Status CapacityAccountant::Reserve(std::string_view instance_id, const InstanceType& type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_.count(instance_id)) {
    return absl::AlreadyExistsError(fmt::format("capacity already reserved for {}", instance_id));
  }
  if (type.gpus > host_.gpus - used_gpus_) {
    return absl::ResourceExhaustedError(
        fmt::format("insufficient capacity: {} needs {} GPU(s); host has {} free (of {})",
                    type.name, type.gpus, host_.gpus - used_gpus_, host_.gpus));
  }
  double free_cpu = cpu_capacity_ - used_vcpus_;
  int64_t free_mem = memory_capacity_ - used_memory_;
  if (type.vcpus > free_cpu + 1e-9 || type.memory_bytes > free_mem) {
    return absl::ResourceExhaustedError(
        fmt::format("insufficient capacity: {} needs {:g} vCPU / {}; host has {:g} vCPU / {} free "
                    "(capacity {:g} vCPU / {} with overcommit)",
                    type.name, type.vcpus, FormatBytes(type.memory_bytes), free_cpu,
                    FormatBytes(free_mem), cpu_capacity_, FormatBytes(memory_capacity_)));
  }
  reserved_.emplace(std::string(instance_id), type);
  used_vcpus_ += type.vcpus;
  used_memory_ += type.memory_bytes;
  used_gpus_ += type.gpus;
  int wanted = type.gpus;
  for (auto& owner : gpu_owner_) {
    if (wanted == 0) break;
    if (owner.empty()) {
      owner = std::string(instance_id);
      --wanted;
    }
  }
  return absl::OkStatus();
}

void CapacityAccountant::Release(std::string_view instance_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reserved_.find(instance_id);
  if (it == reserved_.end()) return;
  used_vcpus_ -= it->second.vcpus;
  used_memory_ -= it->second.memory_bytes;
  used_gpus_ -= it->second.gpus;
  for (auto& owner : gpu_owner_) {
    if (owner == instance_id) owner.clear();
  }
  reserved_.erase(it);
}

std::vector<std::string> CapacityAccountant::GpuDevices(std::string_view instance_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (size_t i = 0; i < gpu_owner_.size(); ++i) {
    if (gpu_owner_[i] != instance_id) continue;
    out.push_back(i < host_.gpu_devices.size() ? host_.gpu_devices[i]
                                               : fmt::format("/dev/nvidia{}", i));
  }
  return out;
}

HostResources CapacityAccountant::Free() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {
      cpu_capacity_ - used_vcpus_, memory_capacity_ - used_memory_, host_.gpus - used_gpus_, {}};
}

std::string FormatBytes(int64_t bytes) {
  if (bytes >= kGiB) return fmt::format("{:g} GiB", static_cast<double>(bytes * 10 / kGiB) / 10);
  if (bytes >= kMiB) return fmt::format("{:g} MiB", static_cast<double>(bytes * 10 / kMiB) / 10);
  return fmt::format("{} bytes", bytes);
}

}  // namespace mercato::sandbox
