// BillingCloser: the background thread that closes months automatically. Every `interval`
// (and at once on Wake(), e.g. after the operator moved the test clock) it closes, oldest
// first, each month with usage that ended at least `delay` ago on the Clock (the delay lets
// the metering flush the month's last seconds first), and every `sync_every` passes it runs
// PriceChanges::SyncAll() as a catch-up for offer changes the products hook missed.
// CloseMonth is idempotent, so spurious passes cost a query. Start/Stop are for the owner
// (Stop is idempotent); Wake is thread-safe. Borrows the services and clock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "base/clock.h"
#include "commerce/billing_service.h"
#include "commerce/price_changes.h"

namespace mercato::commerce {

class BillingCloser {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(5);
    absl::Duration delay = absl::Minutes(10);
    int sync_every = 12;
  };
  BillingCloser(BillingService& billing, PriceChanges& changes, const Clock& clock,
                Options options);
  ~BillingCloser();

  void Start();
  void Stop();
  void Wake();
  // One pass (what the thread does); returns the months closed.
  int RunOnce();
  int64_t passes() const;

 private:
  void Loop();

  BillingService& billing_;
  PriceChanges& changes_;
  const Clock& clock_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  int64_t passes_ = 0;
  std::thread thread_;
};

}  // namespace mercato::commerce
