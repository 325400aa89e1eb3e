#include "base/time_format.h"

#include <string>

namespace mercato {

std::string FormatIso8601(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}
std::string FormatIso8601Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}
std::string FormatAmzDate(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}
std::string FormatHttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

namespace {
absl::StatusOr<absl::Time> Parse(std::string_view fmt, std::string_view s, std::string_view what) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(std::string(fmt), std::string(s), absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(std::string(what) +
                                      " is not a valid date: " + std::string(s));
  }
  return t;
}
}  // namespace

absl::StatusOr<absl::Time> ParseIso8601(std::string_view s) {
  if (auto t = Parse("%Y-%m-%dT%H:%M:%E*S%Ez", s, "timestamp"); t.ok()) return t;
  if (auto t = Parse("%Y-%m-%dT%H:%M:%E*SZ", s, "timestamp"); t.ok()) return t;
  return Parse("%Y-%m-%d", s, "timestamp");
}
absl::StatusOr<absl::Time> ParseAmzDate(std::string_view s) {
  // absl's %Y is greedy, so the fixed-width basic format is split by hand.
  auto bad = absl::InvalidArgumentError("X-Amz-Date is not a valid date: " + std::string(s));
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return bad;
  auto num = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || !num(4, 2, &mo) || !num(6, 2, &d) || !num(9, 2, &h) || !num(11, 2, &mi) ||
      !num(13, 2, &se) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
    return bad;
  }
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, se), absl::UTCTimeZone());
}
absl::StatusOr<absl::Time> ParseHttpDate(std::string_view s) {
  return Parse("%a, %d %b %Y %H:%M:%S GMT", s, "date");
}

}  // namespace mercato
