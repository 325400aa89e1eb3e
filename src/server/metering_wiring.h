// The metering part of the marketplace (issue 6; commerce/meter.h): built by
// BuildMeteringPart (marketplace.h) when MERCATO_HAVE_METERING is defined.
//
// BuildMeteringPart first closes the instance rows a crashed process left open at their last
// metered instant (Meter::Recover) — it runs inside App::Create, before App::Start starts
// hosting and the job runners (whose own recovery would otherwise close them at "now" and bill
// the downtime). Start() starts the 1 s metering tick; Stop() stops it after a last tick.
//
// Inference counts reach the meter through a process-wide observer, because hosting (and its
// router) is built before the marketplace parts:
//   MeteringObserver() returns the meter while the part exists, else nullptr. It is an atomic
//   load, cheap enough to call per request; a caller may also fetch it once after
//   Marketplace::Build and keep it until the marketplace is destroyed (the server must stop
//   routing before that).
// MeteringFlush() runs one metering tick now (e.g. before a month close), Unavailable when the
// part is not built.
//
// Switch: MERCATO_METERING=off in mercatod's environment starts with inference metering off
// (instance time is always metered); PUT /api/v1/admin/metering flips it at run time.
#pragma once

#include "absl/status/status.h"
#include "hosting/usage_observer.h"

namespace mercato::server {

hosting::InferenceObserver* MeteringObserver();
absl::Status MeteringFlush();

}  // namespace mercato::server
