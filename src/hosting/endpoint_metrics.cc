#include "hosting/endpoint_metrics.h"

#include <algorithm>
#include <limits>
#include <mutex>

#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::hosting {
namespace {

// Buckets of the latency histograms, in microseconds.
const std::vector<double>& LatencyBounds() {
  static const std::vector<double> kMicros = {100,     250,     500,      1000,    2500,   5000,
                                              10000,   25000,   50000,    100000,  250000, 500000,
                                              1000000, 2500000, 10000000, 60000000};
  return kMicros;
}

struct Stat {
  uint64_t count = 0;
  int64_t sum = 0;
  int64_t min = std::numeric_limits<int64_t>::max();
  int64_t max = 0;

  void Add(int64_t v) {
    ++count;
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
  }
  Json ToJson() const {
    if (count == 0) return {{"SampleCount", 0}};
    return {{"SampleCount", count},
            {"Sum", sum},
            {"Average", static_cast<double>(sum) / static_cast<double>(count)},
            {"Minimum", min},
            {"Maximum", max}};
  }
};

struct Minute {
  uint64_t invocations = 0;
  uint64_t errors_4xx = 0;
  uint64_t errors_5xx = 0;
  Stat model;
  Stat overhead;
  std::map<std::string, uint64_t, std::less<>> per_instance;
};

}  // namespace

struct EndpointMetrics::VariantSeries {
  Counter* invocations = nullptr;
  Counter* errors_4xx = nullptr;
  Counter* errors_5xx = nullptr;
  Histogram* model_latency = nullptr;
  Histogram* overhead_latency = nullptr;

  std::mutex mu;                      // guards minutes
  std::map<int64_t, Minute> minutes;  // key: unix minute
};

EndpointMetrics::EndpointMetrics(MetricsRegistry& registry, const Clock& clock,
                                 absl::Duration retention)
    : registry_(registry), clock_(clock), retention_(retention) {}

EndpointMetrics::~EndpointMetrics() = default;

EndpointMetrics::VariantSeries& EndpointMetrics::SeriesFor(std::string_view account,
                                                           std::string_view endpoint,
                                                           std::string_view variant) {
  std::string key = fmt::format("{}\n{}\n{}", account, endpoint, variant);
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = series_.find(key);
    if (it != series_.end()) return *it->second;
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto& slot = series_[key];
  if (!slot) {
    auto s = std::make_unique<VariantSeries>();
    MetricLabels labels = {{"account", std::string(account)},
                           {"endpoint", std::string(endpoint)},
                           {"variant", std::string(variant)}};
    s->invocations = &registry_.GetCounter("mercato_endpoint_invocations_total",
                                           "InvokeEndpoint requests.", labels);
    s->errors_4xx = &registry_.GetCounter(
        "mercato_endpoint_invocation_4xx_errors_total",
        "InvokeEndpoint requests answered with a 4xx (incl. ModelError).", labels);
    s->errors_5xx = &registry_.GetCounter("mercato_endpoint_invocation_5xx_errors_total",
                                          "InvokeEndpoint requests answered with a 5xx.", labels);
    s->model_latency = &registry_.GetHistogram(
        "mercato_endpoint_model_latency_microseconds",
        "Time the container took to answer /invocations (ModelLatency).", labels, LatencyBounds());
    s->overhead_latency = &registry_.GetHistogram(
        "mercato_endpoint_overhead_latency_microseconds",
        "Time Mercato added around the container (OverheadLatency).", labels, LatencyBounds());
    slot = std::move(s);
  }
  return *slot;
}

void EndpointMetrics::Record(std::string_view account, std::string_view endpoint,
                             std::string_view variant, std::string_view instance_id, int code,
                             int64_t model_us, int64_t overhead_us) {
  VariantSeries& s = SeriesFor(account, endpoint, variant);
  bool is_4xx = code >= 400 && code < 500;
  bool is_5xx = code >= 500;
  overhead_us = std::max<int64_t>(0, overhead_us);
  s.invocations->Add();
  if (is_4xx) s.errors_4xx->Add();
  if (is_5xx) s.errors_5xx->Add();
  if (model_us >= 0) s.model_latency->Observe(static_cast<double>(model_us));
  s.overhead_latency->Observe(static_cast<double>(overhead_us));

  absl::Time now = clock_.Now();
  int64_t minute = absl::ToUnixSeconds(now) / 60;
  int64_t oldest = absl::ToUnixSeconds(now - retention_) / 60;
  std::lock_guard<std::mutex> lock(s.mu);
  Minute& m = s.minutes[minute];
  ++m.invocations;
  if (is_4xx) ++m.errors_4xx;
  if (is_5xx) ++m.errors_5xx;
  if (model_us >= 0) m.model.Add(model_us);
  m.overhead.Add(overhead_us);
  if (!instance_id.empty()) {
    auto it = m.per_instance.find(instance_id);
    if (it == m.per_instance.end()) it = m.per_instance.emplace(instance_id, 0).first;
    ++it->second;
  }
  // Minutes past the retention go as new ones arrive (at most one per minute).
  while (!s.minutes.empty() && s.minutes.begin()->first < oldest)
    s.minutes.erase(s.minutes.begin());
}

Json EndpointMetrics::Series(std::string_view account, std::string_view endpoint, absl::Time from,
                             absl::Time to) const {
  Json variants = Json::array();
  absl::Time now = clock_.Now();
  int64_t first = absl::ToUnixSeconds(std::max(from, now - retention_)) / 60;
  int64_t last = (absl::ToUnixSeconds(std::min(to, now + absl::Minutes(1))) + 59) / 60;  // excl.
  std::string prefix = fmt::format("{}\n{}\n", account, endpoint);
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (auto it = series_.lower_bound(prefix);
       it != series_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    Json points = Json::array();
    {
      std::lock_guard<std::mutex> series_lock(it->second->mu);
      for (auto m = it->second->minutes.lower_bound(first);
           m != it->second->minutes.end() && m->first < last; ++m) {
        Json per_instance = Json::object();
        for (const auto& [id, n] : m->second.per_instance) per_instance[id] = n;
        points.push_back({{"Timestamp", FormatIso8601(absl::FromUnixSeconds(m->first * 60))},
                          {"Invocations", m->second.invocations},
                          {"Invocation4XXErrors", m->second.errors_4xx},
                          {"Invocation5XXErrors", m->second.errors_5xx},
                          {"ModelLatency", m->second.model.ToJson()},
                          {"OverheadLatency", m->second.overhead.ToJson()},
                          {"InvocationsPerInstance", std::move(per_instance)}});
      }
    }
    variants.push_back(
        {{"VariantName", it->first.substr(prefix.size())}, {"Datapoints", std::move(points)}});
  }
  return {{"EndpointName", std::string(endpoint)}, {"Variants", std::move(variants)}};
}

}  // namespace mercato::hosting
