#include "base/metrics.h"

#include "gtest/gtest.h"

namespace mercato {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry r;
  r.GetCounter("mercato_requests_total", "Requests.", {{"api", "s3"}, {"code", "200"}}).Add(3);
  r.GetGauge("mercato_up", "Up.", {}).Set(1);
  auto& h = r.GetHistogram("mercato_latency_seconds", "Latency.", {{"api", "s3"}}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE mercato_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("mercato_requests_total{api=\"s3\",code=\"200\"} 3"), std::string::npos);
  EXPECT_NE(text.find("mercato_up 1"), std::string::npos);
  EXPECT_NE(text.find("mercato_latency_seconds_bucket{api=\"s3\",le=\"0.1\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("mercato_latency_seconds_bucket{api=\"s3\",le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("mercato_latency_seconds_bucket{api=\"s3\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("mercato_latency_seconds_count{api=\"s3\"} 3"), std::string::npos);
}

TEST(MetricsTest, SameLabelsSameMetric) {
  MetricsRegistry r;
  Counter& a = r.GetCounter("c", "h", {{"x", "1"}});
  Counter& b = r.GetCounter("c", "h", {{"x", "1"}});
  EXPECT_EQ(&a, &b);
}

}  // namespace
}  // namespace mercato
