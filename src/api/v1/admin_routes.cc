#include "api/v1/admin_routes.h"

#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

constexpr int64_t kMaxAdvanceSeconds = int64_t{10} * 365 * 24 * 3600;

absl::Status RequireOperator(const auth::Principal& p) {
  if (p.is_operator) return absl::OkStatus();
  return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                  "only the operator may read or move the test clock");
}

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

// The new time a POST body asks for.
absl::StatusOr<absl::Time> Target(const Json& body, absl::Time now) {
  bool has_set = body.is_object() && body.contains("set");
  bool has_advance = body.is_object() && body.contains("advance_seconds");
  if (has_set == has_advance) {
    return Invalid(
        "give exactly one of {\"set\": \"2026-11-01T00:00:00Z\"} or {\"advance_seconds\": N}");
  }
  if (has_advance) {
    const Json& n = body["advance_seconds"];
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > kMaxAdvanceSeconds) {
      return Invalid(fmt::format("advance_seconds must be an integer from 1 to {} (10 years)",
                                 kMaxAdvanceSeconds));
    }
    return now + absl::Seconds(n.get<int64_t>());
  }
  if (!body["set"].is_string()) return Invalid("set must be an ISO 8601 time string");
  auto t = ParseIso8601(body["set"].get<std::string>());
  if (!t.ok()) {
    return Invalid(fmt::format("set: \"{}\" is not an ISO 8601 time like 2026-11-01T00:00:00Z",
                               body["set"].get<std::string>()));
  }
  if (*t < now) {
    return AwsError(
        absl::StatusCode::kInvalidArgument, "ClockMovedBackwards",
        fmt::format("The test clock only moves forward: it is now {} and {} is earlier. Records "
                    "already made at later times (subscriptions, grace periods, notifications "
                    "sent) would then lie in the future, so time-based rules would misfire. Set "
                    "a later time, or restart mercatod --test-clock with a fresh data directory "
                    "to begin again.",
                    FormatIso8601(now), FormatIso8601(*t)));
  }
  if (*t - now > absl::Seconds(kMaxAdvanceSeconds)) {
    return Invalid("set: at most 10 years ahead of the clock's current time");
  }
  return *t;
}

}  // namespace

void AddAdminClockRoutes(V1Api& api, ManualClock& clock, std::function<void()> on_change) {
  api.AddRoute("GET", "/api/v1/admin/clock", [&clock](const Call& c) -> absl::StatusOr<Reply> {
    RETURN_IF_ERROR(RequireOperator(c.principal));
    return Reply{200, Json{{"now", FormatIso8601(clock.Now())}}};
  });
  api.AddRoute("POST", "/api/v1/admin/clock",
               [&clock, on_change](const Call& c) -> absl::StatusOr<Reply> {
                 RETURN_IF_ERROR(RequireOperator(c.principal));
                 absl::Time now = clock.Now();
                 ASSIGN_OR_RETURN(absl::Time target, Target(c.body, now));
                 // Advance rather than Set: a ticking clock may have moved since `now`
                 // was read, and Advance can never take it backwards.
                 clock.Advance(target - now);
                 if (on_change) on_change();
                 return Reply{200, Json{{"now", FormatIso8601(clock.Now())}}};
               });
}

}  // namespace mercato::api::v1
