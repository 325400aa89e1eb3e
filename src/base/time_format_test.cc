#include "base/time_format.h"

#include "gtest/gtest.h"

namespace mercato {
namespace {

TEST(TimeFormatTest, RoundTrips) {
  absl::Time t = absl::FromUnixSeconds(1793577600);  // 2026-11-02T00:00:00Z
  EXPECT_EQ(FormatIso8601(t), "2026-11-02T00:00:00Z");
  EXPECT_EQ(FormatIso8601Millis(t), "2026-11-02T00:00:00.000Z");
  EXPECT_EQ(FormatAmzDate(t), "20261102T000000Z");
  EXPECT_EQ(FormatHttpDate(t), "Mon, 02 Nov 2026 00:00:00 GMT");
  EXPECT_EQ(*ParseAmzDate("20261102T000000Z"), t);
  EXPECT_EQ(*ParseIso8601("2026-11-02T00:00:00Z"), t);
  EXPECT_EQ(*ParseHttpDate("Mon, 02 Nov 2026 00:00:00 GMT"), t);
  EXPECT_FALSE(ParseAmzDate("yesterday").ok());
}

}  // namespace
}  // namespace mercato
