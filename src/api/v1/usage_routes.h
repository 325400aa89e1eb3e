// Native API routes for metering (issue 6), over commerce/usage_report.h and commerce/meter.h:
//   GET /api/v1/usage[?month=YYYY-MM][&account=ID] → the caller's usage in that UTC month
//       (default: the current month on the Clock) with a running cost estimate (the shape is
//       in usage_report.h). Only the operator may name another account.
//   GET /api/v1/admin/metering → {"InferenceMetering": bool, "MeteredThrough": ISO|null}
//   PUT /api/v1/admin/metering {"InferenceMetering": bool} → the same, after the change
//       (operator only; turning inference metering off drops counts — for benchmarks and
//       emergencies, never for billing runs).
// Errors: ValidationError 400 (bad month, bad body), AccessDenied 403.
// Registers routes that borrow the store, clock and meter (the meter may be null: the admin
// routes then answer 503 ServiceUnavailable).
#pragma once

#include "api/v1/v1_api.h"
#include "base/clock.h"
#include "commerce/meter.h"
#include "store/metadata_store.h"

namespace mercato::api::v1 {

void AddUsageRoutes(V1Api& api, MetadataStore& store, const Clock& clock, commerce::Meter* meter);

}  // namespace mercato::api::v1
