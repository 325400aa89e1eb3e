// EndpointLogs: what the containers of an endpoint wrote, for its owner (the CloudWatch log
// group /aws/sagemaker/Endpoints/NAME of SageMaker). Every instance the EndpointController
// ever started for the endpoint (table endpoint_instances) keeps its log files under
// `instances_dir/<instance id>/logs`, also after it stopped; Read() merges them by time.
//
// Cursor: events are numbered in time order (ties: instance start order) among those that
// match `since`; `since_line` skips the first N and the answer's next_line is where the
// next call continues. Only lines older than a short settle margin are returned, so that a
// line written while the files are being read cannot later sort before lines already
// returned (followers would miss it). Lines rotated out of the kept files are gone.
// If the endpoint exists, only instances started since its creation are read (an earlier
// endpoint of the same name keeps its logs to itself); a deleted endpoint's logs stay
// readable while its instance records exist.
// Thread-safe (each call opens its own readers); borrows the store and clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::hosting {

struct LogQuery {
  std::optional<absl::Time> since;  // only events at or after this time
  int64_t since_line = 0;
  size_t limit = 10000;  // events per answer
};

class EndpointLogs {
 public:
  EndpointLogs(MetadataStore& store, const Clock& clock, std::string instances_dir,
               absl::Duration settle = absl::Milliseconds(250))
      : store_(store), clock_(clock), instances_dir_(std::move(instances_dir)), settle_(settle) {}

  // {"EndpointName", "events": [{"timestamp" (ISO 8601 with microseconds), "instance",
  // "variant", "stream", "message"}], "next_line"}. NotFound (SageMaker's "Could not find
  // endpoint" message) when the account has neither the endpoint nor any instance of it.
  absl::StatusOr<Json> Read(std::string_view account, std::string_view endpoint,
                            const LogQuery& query) const;

  // "2026-11-01T12:00:00Z" or a number of seconds before now ("600") → a time.
  absl::StatusOr<absl::Time> ParseSince(std::string_view since) const;

 private:
  MetadataStore& store_;
  const Clock& clock_;
  const std::string instances_dir_;
  const absl::Duration settle_;
};

}  // namespace mercato::hosting
