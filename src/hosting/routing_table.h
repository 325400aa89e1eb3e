// What the EndpointController publishes and the InvocationRouter reads: for each endpoint,
// its status and, per production variant, its weight and the instances that passed their
// health check. A RouteTable is immutable once published (readers hold a shared_ptr to a
// snapshot); a RoutedInstance's counters and connection pool are thread-safe.
#pragma once

#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/json.h"

namespace mercato::hosting {

class RoutedInstance {
 public:
  RoutedInstance(std::string id, std::string variant)
      : id_(std::move(id)), variant_(std::move(variant)) {}
  ~RoutedInstance() {
    for (int fd : idle_) ::close(fd);
  }
  RoutedInstance(const RoutedInstance&) = delete;
  RoutedInstance& operator=(const RoutedInstance&) = delete;

  const std::string& id() const { return id_; }
  const std::string& variant() const { return variant_; }

  // Requests in flight (least-outstanding-requests routing).
  std::atomic<int> outstanding{0};
  // Set by the controller when the instance stops or fails, so routers stop picking it.
  std::atomic<bool> retired{false};

  // An idle keep-alive connection, or -1.
  int TakeConnection() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) return -1;
    int fd = idle_.back();
    idle_.pop_back();
    return fd;
  }
  // Gives back a connection whose last response was complete and keep-alive.
  void ReturnConnection(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    if (retired.load() || idle_.size() >= kMaxIdle) {
      ::close(fd);
      return;
    }
    idle_.push_back(fd);
  }
  void CloseIdle() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : idle_) ::close(fd);
    idle_.clear();
  }

 private:
  static constexpr size_t kMaxIdle = 32;
  const std::string id_;
  const std::string variant_;
  std::mutex mu_;
  std::vector<int> idle_;
};

struct RouteVariant {
  std::string name;
  double weight = 1.0;
  // {"ProductIds": [...]} of the variant's container (for metering; empty array if none).
  std::shared_ptr<const Json> products;
  std::vector<std::shared_ptr<RoutedInstance>> instances;  // healthy ones only
};

struct RouteTable {
  std::string account_id;
  std::string endpoint_name;
  std::string status;  // the endpoint's status when published
  std::vector<RouteVariant> variants;
};

}  // namespace mercato::hosting
