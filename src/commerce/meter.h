// Meter: turns instance time and inference counts into usage_records (migration 13), the
// input of billing and the sellers' reports.
//
// Instance time. Each instance row (endpoint_instances, transform_job_instances,
// training_job_instances: started_at, stopped_at NULL while running) has a cursor in
// meter_cursors: the instant up to which it is metered (started_at until first metered).
// Every Tick() runs ONE write transaction that, for every instance not fully metered,
// accrues [cursor, min(now, stopped_at)) split at UTC hour boundaries as instance-
// microseconds (quantity = quantity + x) and moves the cursor, and also flushes the
// inference counts gathered since the last tick. Usage and cursors commit together, so a
// crash at any moment (kill -9) loses at most the tick in progress and never counts twice.
// If a stop committed after a tick that had already metered the instance past its
// stopped_at (the stopper read the clock before our transaction), the next tick gives back
// the excess, so billed time never exceeds [started_at, stopped_at).
//
// Crash recovery (Recover(), run before hosting starts anything): an instance still open
// belonged to the dead process; it is closed at its cursor (or started_at if never metered),
// so the downtime is never billed.
//
// Attribution: use is Endpoint | Transform | Training by table, Inference for counts. For
// each product id in the instance's product_ids (or the container's "ProductIds") the row
// names the buyer's newest Active subscription to it (subscription id, seller, product);
// none → '' (logged). No product ids → '' for all three (infrastructure-only use).
// Inference rows have instance_type '' and the endpoint's ARN as resource.
//
// meter_state('metered_through') holds the clock instant of the last committed tick:
// everything before it is in usage_records (billing waits for it to pass a month's end).
//
// Thread-safety: Inferences() and the inference switch are thread-safe and cheap (a map
// under a mutex); Tick() may be called from any thread (ticks are serialized). Start()/
// Stop() from the owner's thread. Borrows the store and the clock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "hosting/usage_observer.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct MeterOptions {
  absl::Duration tick = absl::Seconds(1);
  std::string region = "us-east-1";  // for endpoint ARNs of inference rows
  bool meter_inferences = true;      // false: Inferences() drops its calls (benchmarks)
};

// What one Tick() did (tests and logs).
struct TickResult {
  int instances = 0;       // instance rows accrued (or corrected)
  int records = 0;         // usage_records upserts
  int64_t inferences = 0;  // inference units flushed
};

// Micros at the start of the UTC hour containing `micros`.
int64_t HourStart(int64_t micros);

class Meter final : public hosting::InferenceObserver {
 public:
  Meter(MetadataStore& store, const Clock& clock, MeterOptions options = {});
  ~Meter() override;  // stops the loop without a final tick (a crash loses as much)

  // Closes the instances a dead process left open at their cursors. Returns how many.
  static absl::StatusOr<int> Recover(MetadataStore& store);

  // One metering pass (see above). On failure nothing is written and the inference counts
  // are kept for the next pass.
  absl::StatusOr<TickResult> Tick();

  // Ticks every options.tick on a thread until Stop(), which runs one last tick.
  void Start();
  void Stop();

  void Inferences(std::string_view account, std::string_view endpoint_name, const Json& container,
                  int64_t units) override;
  void SetInferencesEnabled(bool on);
  bool inferences_enabled() const;

 private:
  // (account, endpoint name, product ids joined by ',', hour) → units.
  using PendingKey = std::tuple<std::string, std::string, std::string, int64_t>;
  using Pending = std::map<PendingKey, int64_t>;

  absl::StatusOr<TickResult> TickOnce(Pending& pending);
  void Loop();

  MetadataStore& store_;
  const Clock& clock_;
  MeterOptions options_;

  mutable std::mutex pending_mu_;
  Pending pending_;
  std::atomic<bool> inferences_on_;

  std::mutex tick_mu_;  // serializes ticks

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mercato::commerce
