// SubscriptionSweeper: the background thread that runs SubscriptionService::Sweep() every
// `interval` and at once on Wake() (e.g. after the operator moved the test clock, so a
// test does not wait for the next tick). Sweep() is idempotent, so a spurious wake-up
// costs one query. Wake() is thread-safe; Start()/Stop() are for the owner, and Stop() is
// idempotent. Borrows the service.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "commerce/subscription_service.h"

namespace mercato::commerce {

class SubscriptionSweeper {
 public:
  SubscriptionSweeper(SubscriptionService& service, absl::Duration interval = absl::Seconds(1));
  ~SubscriptionSweeper();

  void Start();
  void Stop();
  void Wake();
  // Completed passes (tests wait on it after Wake()).
  int64_t passes() const;

 private:
  void Loop();

  SubscriptionService& service_;
  absl::Duration interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  int64_t passes_ = 0;
  std::thread thread_;
};

}  // namespace mercato::commerce
