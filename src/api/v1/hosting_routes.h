// Native API routes for SageMaker endpoints' operations (issue 4): logs, per-minute metrics
// and instances. Every route answers only for the caller's own endpoints; another account's
// endpoint is 404 ResourceNotFound, exactly like one that does not exist.
//   GET /api/v1/logs/endpoints/{name}?since=ISO8601|SECONDS_AGO&since_line=N&limit=N
//       → {EndpointName, events: [{timestamp, instance, variant, stream, message}], next_line}
//       (hosting/endpoint_logs.h: time-ordered over every instance; poll with
//       since_line=next_line to follow)
//   GET /api/v1/endpoints/{name}/metrics?minutes=N   (default and maximum 1440)
//       → {EndpointName, Variants: [{VariantName, Datapoints: [{Timestamp, Invocations,
//          Invocation4XXErrors, Invocation5XXErrors, ModelLatency, OverheadLatency,
//          InvocationsPerInstance}]}]}   (latencies in microseconds)
//   GET /api/v1/endpoints/{name}/instances[?account_id=ID]
//       → {EndpointName, Instances: [{InstanceId, VariantName, Healthy, StartTime}]};
//       the operator also gets each running instance's host "Pid" and may name another
//       account with account_id (diagnostics, e.g. to kill an instance in a drill).
// The functions only register routes; the routes borrow what they are given.
#pragma once

#include "api/v1/v1_api.h"
#include "base/clock.h"
#include "hosting/endpoint_controller.h"
#include "hosting/endpoint_logs.h"
#include "hosting/endpoint_metrics.h"
#include "store/metadata_store.h"

namespace mercato::api::v1 {

struct HostingRouteDeps {
  MetadataStore& store;
  const Clock& clock;
  hosting::EndpointController& controller;
  hosting::EndpointMetrics& metrics;
  hosting::EndpointLogs& logs;
};

void AddHostingRoutes(V1Api& api, const HostingRouteDeps& deps);

}  // namespace mercato::api::v1
