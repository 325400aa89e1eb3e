#include "commerce/subscription_sweeper.h"

#include <chrono>

#include "spdlog/spdlog.h"

namespace mercato::commerce {

SubscriptionSweeper::SubscriptionSweeper(SubscriptionService& service, absl::Duration interval)
    : service_(service), interval_(interval) {}

SubscriptionSweeper::~SubscriptionSweeper() { Stop(); }

void SubscriptionSweeper::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void SubscriptionSweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SubscriptionSweeper::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t SubscriptionSweeper::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

void SubscriptionSweeper::Loop() {
  auto interval = std::chrono::milliseconds(absl::ToInt64Milliseconds(interval_));
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, interval, [this] { return stop_ || woken_; });
      if (stop_) return;
      woken_ = false;
    }
    absl::StatusOr<int> steps = service_.Sweep();
    if (!steps.ok()) spdlog::warn("subscription sweeper: {}", steps.status().ToString());
    std::lock_guard<std::mutex> lock(mu_);
    ++passes_;
  }
}

}  // namespace mercato::commerce
