// The metering part of the marketplace (issue 6; commerce/meter.h): built by
// BuildMeteringPart (marketplace.h) when MERCATO_HAVE_METERING is defined.
//
// BuildMeteringPart first closes the instance rows a crashed process left open at their last
// metered instant (Meter::Recover) — it runs inside App::Create, before App::Start starts
// hosting and the job runners (whose own recovery would otherwise close them at "now" and bill
// the downtime). Start() starts the 1 s metering tick; Stop() stops it after a last tick.
//
// It fills hooks.inference_observer (the meter: App hands it to the invocation router, which
// is built before the marketplace) and hooks.flush_usage (one tick now, e.g. before a month
// close).
//
// Switch: MERCATO_METERING=off in mercatod's environment starts with inference metering off
// (instance time is always metered); PUT /api/v1/admin/metering flips it at run time.
#include <cstdlib>
#include <string_view>

#include "api/v1/usage_routes.h"
#include "base/status.h"
#include "commerce/meter.h"
#include "hosting/usage_observer.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

class MeteringPart final : public MarketplacePart {
 public:
  MeteringPart(const MarketplaceDeps& deps, commerce::MeterOptions options)
      : meter(deps.store, deps.clock, std::move(options)) {}
  ~MeteringPart() override { Stop(); }
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
  commerce::Meter* meter = &part->meter;
  ctx.hooks.inference_observer = meter;
  ctx.hooks.flush_usage = [meter]() { return meter->Tick().status(); };
  return part;
}

}  // namespace mercato::server
