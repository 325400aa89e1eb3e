// The operator's test clock over the native API (issue 5), registered only when mercatod
// runs with --test-clock; without it the routes do not exist (404 like any unknown route).
//   GET  /api/v1/admin/clock                       → {"now": ISO8601}
//   POST /api/v1/admin/clock {"set": ISO8601}       → {"now"}
//   POST /api/v1/admin/clock {"advance_seconds": N} → {"now"}   (1 ≤ N ≤ 10 years)
// Operator only (403 AccessDenied otherwise). The clock only moves forward: setting an
// earlier time is 400 ClockMovedBackwards, because what was already recorded at later
// times (subscriptions, grace periods, notifications sent, metering) would then lie in
// the future. After a change, `on_change` runs (the wiring wakes the time-driven sweepers
// so tests need not wait for their next tick). The routes borrow the clock.
#pragma once

#include <functional>

#include "api/v1/v1_api.h"
#include "base/clock.h"

namespace mercato::api::v1 {

void AddAdminClockRoutes(V1Api& api, ManualClock& clock, std::function<void()> on_change);

}  // namespace mercato::api::v1
