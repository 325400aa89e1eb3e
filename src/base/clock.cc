#include "base/clock.h"

namespace mercato {

ManualClock::ManualClock(absl::Time start, bool ticking)
    : base_(start), real_base_(absl::Now()), ticking_(ticking) {}

absl::Time ManualClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ticking_) return base_;
  return base_ + (absl::Now() - real_base_);
}

void ManualClock::Set(absl::Time t) {
  std::lock_guard<std::mutex> lock(mu_);
  base_ = t;
  real_base_ = absl::Now();
}

void ManualClock::Advance(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ticking_) {
    base_ += absl::Now() - real_base_;
    real_base_ = absl::Now();
  }
  base_ += d;
}

}  // namespace mercato
