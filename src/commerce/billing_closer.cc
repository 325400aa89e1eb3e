#include "commerce/billing_closer.h"

#include "spdlog/spdlog.h"

namespace mercato::commerce {

BillingCloser::BillingCloser(BillingService& billing, PriceChanges& changes, const Clock& clock,
                             Options options)
    : billing_(billing), changes_(changes), clock_(clock), options_(options) {}

BillingCloser::~BillingCloser() { Stop(); }

void BillingCloser::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void BillingCloser::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BillingCloser::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t BillingCloser::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

int BillingCloser::RunOnce() {
  int64_t until = absl::ToUnixMicros(clock_.Now() - options_.delay);
  absl::StatusOr<std::vector<std::string>> months = billing_.MonthsToClose(until);
  if (!months.ok()) {
    spdlog::warn("billing: finding months to close: {}", months.status().ToString());
    return 0;
  }
  int closed = 0;
  for (const std::string& m : *months) {
    absl::StatusOr<Json> r = billing_.CloseMonth(m);
    if (!r.ok()) {
      spdlog::warn("billing: closing {} failed (will retry): {}", m, r.status().ToString());
      break;
    }
    ++closed;
  }
  return closed;
}

void BillingCloser::Loop() {
  int64_t pass = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, absl::ToChronoSeconds(options_.interval),
                   [this] { return stop_ || woken_; });
      if (stop_) return;
      woken_ = false;
    }
    if (options_.sync_every > 0 && pass % options_.sync_every == 0) {
      absl::StatusOr<int> n = changes_.SyncAll();
      if (!n.ok()) spdlog::warn("billing: offer sync: {}", n.status().ToString());
    }
    RunOnce();
    ++pass;
    std::lock_guard<std::mutex> lock(mu_);
    ++passes_;
  }
}

}  // namespace mercato::commerce
