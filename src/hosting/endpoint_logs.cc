#include "hosting/endpoint_logs.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/time/clock.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"
#include "sandbox/log_files.h"

namespace mercato::hosting {
namespace {

struct Event {
  sandbox::LogEvent event;
  size_t instance;  // index into the instance list (start order)
};

std::string FormatMicros(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<absl::Time> EndpointLogs::ParseSince(std::string_view since) const {
  std::string s(since);
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 12) {
    return clock_.Now() - absl::Seconds(std::strtoll(s.c_str(), nullptr, 10));
  }
  auto t = ParseIso8601(since);
  if (!t.ok()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    fmt::format("since must be an ISO 8601 time or a number of seconds ago, "
                                "got '{}'",
                                s));
  }
  return *t;
}

absl::StatusOr<Json> EndpointLogs::Read(std::string_view account, std::string_view endpoint,
                                        const LogQuery& query) const {
  std::vector<SqlValue> key = {std::string(account), std::string(endpoint)};
  ASSIGN_OR_RETURN(SqlRows current,
                   store_.Query("SELECT created_at FROM endpoints WHERE account_id = ? AND "
                                "name = ?",
                                key));
  int64_t created_at = current.empty() ? 0 : current[0].Int(0);
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT instance_id, variant_name, started_at FROM "
                                              "endpoint_instances WHERE account_id = ? AND "
                                              "endpoint_name = ? ORDER BY started_at, instance_id",
                                              key));
  if (current.empty() && rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Could not find endpoint \"{}\".", endpoint));
  }
  // Lines stamped after this may still be on their way into files read below.
  absl::Time cutoff = clock_.Now() - settle_;
  std::vector<std::pair<std::string, std::string>> instances;  // id, variant
  std::vector<Event> events;
  for (const auto& row : rows) {
    if (row.Int(2) < created_at) continue;
    std::string dir = fmt::format("{}/{}/logs", instances_dir_, row.Text(0));
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) continue;
    sandbox::FileLogReader reader(dir);
    size_t index = instances.size();
    instances.emplace_back(row.Text(0), row.Text(1));
    while (true) {
      auto batch = reader.Read(10000);
      if (!batch.ok()) return batch.status();
      if (batch->empty()) break;
      for (auto& ev : *batch) {
        if (ev.time > cutoff) continue;
        if (query.since && ev.time < *query.since) continue;
        events.push_back({std::move(ev), index});
      }
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.event.time != b.event.time) return a.event.time < b.event.time;
    return a.instance < b.instance;
  });
  size_t from = static_cast<size_t>(std::clamp<int64_t>(query.since_line, 0, events.size()));
  size_t to = std::min(events.size(), from + query.limit);
  Json out = Json::array();
  for (size_t i = from; i < to; ++i) {
    const Event& e = events[i];
    out.push_back({{"timestamp", FormatMicros(e.event.time)},
                   {"instance", instances[e.instance].first},
                   {"variant", instances[e.instance].second},
                   {"stream", e.event.stream},
                   {"message", e.event.message}});
  }
  return Json{{"EndpointName", std::string(endpoint)},
              {"events", std::move(out)},
              {"next_line", std::max<int64_t>(query.since_line, static_cast<int64_t>(to))}};
}

}  // namespace mercato::hosting
