// Clock: the one source of "now" for every time-based rule (signature skew, trials,
// grace periods, metering, billing). RealClock reads the system clock; ManualClock is
// set or advanced explicitly (tests and `mercatod --test-clock`). Both are thread-safe.
// Owners pass a `Clock&` down; nothing reads the system time directly.
#pragma once

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mercato {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that starts at a given instant and moves only when told to; once advanced it
// also keeps ticking in real time if `ticking` is set, so waits and timeouts still work.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start, bool ticking = false);
  absl::Time Now() const override;
  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  mutable std::mutex mu_;
  absl::Time base_;
  absl::Time real_base_;
  bool ticking_;
};

}  // namespace mercato
