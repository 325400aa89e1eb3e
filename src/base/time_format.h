// Time formats used on the wire: ISO 8601 (`2026-11-01T00:00:00Z`, and with milliseconds as
// S3 lists them), SigV4's basic format (`20261101T000000Z`), RFC 1123 HTTP dates
// (`Sun, 01 Nov 2026 00:00:00 GMT`), and epoch seconds. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mercato {

std::string FormatIso8601(absl::Time t);        // 2026-11-01T00:00:00Z
std::string FormatIso8601Millis(absl::Time t);  // 2026-11-01T00:00:00.000Z
std::string FormatAmzDate(absl::Time t);        // 20261101T000000Z
std::string FormatHttpDate(absl::Time t);       // Sun, 01 Nov 2026 00:00:00 GMT
absl::StatusOr<absl::Time> ParseIso8601(std::string_view s);
absl::StatusOr<absl::Time> ParseAmzDate(std::string_view s);
absl::StatusOr<absl::Time> ParseHttpDate(std::string_view s);

}  // namespace mercato
