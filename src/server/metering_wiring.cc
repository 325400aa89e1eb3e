// Builds the metering part (metering_wiring.h): crash recovery, the meter and its tick, the
// usage routes, and the process-wide inference observer.
#include "server/metering_wiring.h"

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "api/v1/usage_routes.h"
#include "base/status.h"
#include "commerce/meter.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

std::atomic<commerce::Meter*> g_meter{nullptr};

class MeteringPart final : public MarketplacePart {
 public:
  MeteringPart(const MarketplaceDeps& deps, commerce::MeterOptions options)
      : meter(deps.store, deps.clock, std::move(options)) {
    g_meter.store(&meter);
  }
  ~MeteringPart() override {
    Stop();
    g_meter.store(nullptr);
  }
  void Start() override { meter.Start(); }
  void Stop() override { meter.Stop(); }

  commerce::Meter meter;
};

bool InferenceMeteringOn() {
  const char* v = std::getenv("MERCATO_METERING");
  if (v == nullptr) return true;
  std::string_view s(v);
  return !(s == "off" || s == "0" || s == "false" || s == "no");
}

}  // namespace

hosting::InferenceObserver* MeteringObserver() { return g_meter.load(); }

absl::Status MeteringFlush() {
  commerce::Meter* m = g_meter.load();
  if (m == nullptr) return absl::UnavailableError("metering is not available");
  return m->Tick().status();
}

absl::StatusOr<MarketplacePartPtr> BuildMeteringPart(MarketplaceContext& ctx) {
  // Before hosting starts anything: instances still open died with the previous process.
  RETURN_IF_ERROR(commerce::Meter::Recover(ctx.deps.store).status());
  commerce::MeterOptions options;
  options.region = ctx.deps.region;
  options.meter_inferences = InferenceMeteringOn();
  if (!options.meter_inferences) {
    spdlog::warn(
        "metering: inference metering is OFF (MERCATO_METERING); inferences are not"
        " billed");
  }
  auto part = std::make_unique<MeteringPart>(ctx.deps, std::move(options));
  api::v1::AddUsageRoutes(ctx.deps.v1, ctx.deps.store, ctx.deps.clock, &part->meter);
  return part;
}

}  // namespace mercato::server
