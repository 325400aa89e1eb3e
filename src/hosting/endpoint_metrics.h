// EndpointMetrics: what the InvocationRouter records about every InvokeEndpoint, kept two ways:
//  - Prometheus series in the MetricsRegistry (GET /metrics): invocation and 4xx/5xx error
//    counters and model/overhead latency histograms, labelled by account, endpoint, variant;
//  - per-minute series in memory for the last `retention` (default 24 h), as SageMaker
//    publishes them to CloudWatch: Invocations, Invocation4XXErrors, Invocation5XXErrors,
//    ModelLatency and OverheadLatency (microseconds: SampleCount, Sum, Average, Minimum,
//    Maximum), plus the invocations each instance served, read by Series() for
//    GET /api/v1/endpoints/{name}/metrics.
// The series are not persisted: a restart of mercatod starts them afresh.
//
// Record() is the hot path: one shared-lock map lookup, relaxed atomic updates and a short
// per-variant lock; metric references are resolved once per variant. Thread-safe; borrows
// the registry and clock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/metrics.h"

namespace mercato::hosting {

class EndpointMetrics {
 public:
  EndpointMetrics(MetricsRegistry& registry, const Clock& clock,
                  absl::Duration retention = absl::Hours(24));
  ~EndpointMetrics();

  // One InvokeEndpoint answered with HTTP `code` (424 for a ModelError). `model_us` < 0
  // means the request never reached a container (no latency samples then); `instance_id`
  // may be empty for the same reason.
  void Record(std::string_view account, std::string_view endpoint, std::string_view variant,
              std::string_view instance_id, int code, int64_t model_us, int64_t overhead_us);

  // {"EndpointName", "Variants": [{"VariantName", "Datapoints": [{"Timestamp" (ISO 8601,
  // the minute's start), "Invocations", "Invocation4XXErrors", "Invocation5XXErrors",
  // "ModelLatency": {...}, "OverheadLatency": {...}, "InvocationsPerInstance": {id: n}}]}]}
  // for the minutes in [from, to) that saw an invocation, oldest first.
  Json Series(std::string_view account, std::string_view endpoint, absl::Time from,
              absl::Time to) const;

 private:
  struct VariantSeries;
  VariantSeries& SeriesFor(std::string_view account, std::string_view endpoint,
                           std::string_view variant);

  MetricsRegistry& registry_;
  const Clock& clock_;
  const absl::Duration retention_;
  mutable std::shared_mutex mu_;  // guards the map (not the series, which lock themselves)
  // Key: account '\n' endpoint '\n' variant (none of them may contain '\n').
  std::map<std::string, std::unique_ptr<VariantSeries>, std::less<>> series_;
};

}  // namespace mercato::hosting
