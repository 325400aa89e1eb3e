#include "commerce/meter.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "commerce/usage_report.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::commerce {
namespace {

constexpr int64_t kSec = 1'000'000;
constexpr int64_t kHour = 3600 * kSec;
constexpr char kBuyer[] = "111111111111";
constexpr char kSeller[] = "222222222222";
constexpr char kArn[] = "arn:aws:sagemaker:us-east-1:111111111111:endpoint/ep";

// 2026-11-02T10:00:00Z
const absl::Time kT0 =
    absl::FromCivil(absl::CivilSecond(2026, 11, 2, 10, 0, 0), absl::UTCTimeZone());
int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

class MeterTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(":memory:"); }

  void Open(const std::string& path) {
    store_.reset();
    auto s = SqliteStore::Open({.path = path});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  void Exec(std::string_view sql, const SqlParams& params = {}) {
    auto r = store_->Exec(sql, params);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  void AddEndpointInstance(const std::string& id, int64_t started, std::string products = "[]",
                           std::string type = "ml.m5.large") {
    Exec(
        "INSERT INTO endpoint_instances (instance_id, account_id, endpoint_name, variant_name,"
        " instance_type, started_at, stopped_at, product_ids, resource_arn) VALUES"
        " (?, ?, 'ep', 'v', ?, ?, NULL, ?, ?)",
        {id, std::string(kBuyer), type, started, products, std::string(kArn)});
  }
  void AddTransformInstance(const std::string& id, int64_t started, int64_t stopped) {
    Exec(
        "INSERT INTO transform_job_instances (instance_id, account_id, job_name, instance_type,"
        " started_at, stopped_at, product_ids, resource_arn) VALUES (?, ?, 'job', 'ml.m5.xlarge',"
        " ?, ?, '[]', 'arn:job')",
        {id, std::string(kBuyer), started, stopped});
  }
  void StopEndpointInstance(const std::string& id, int64_t at) {
    Exec("UPDATE endpoint_instances SET stopped_at = ? WHERE instance_id = ?", {at, id});
  }
  void AddSubscription(const std::string& id, const std::string& product, int64_t created,
                       const std::string& status = "Active", const std::string& offer = "{}",
                       int64_t trial_start = 0, int64_t trial_end = 0) {
    Exec(
        "INSERT INTO subscriptions (id, account_id, product_id, product_code, title,"
        " seller_account, status, offer, eula_hash, ref_tag, trial_start, trial_end, created_at,"
        " cancelled_at, grace_ends_at, expired_at, reminder_sent, expiry_notified, use_stopped,"
        " stop_attempts) VALUES (?, ?, ?, 'code', 'title', ?, ?, ?, '', '', ?, ?, ?, 0, 0, 0, 0,"
        " 0, 0, 0)",
        {id, std::string(kBuyer), product, std::string(kSeller), status, offer, trial_start,
         trial_end, created});
  }

  // (use, subscription, hour offset from kT0 in hours) → quantity.
  std::map<std::tuple<std::string, std::string, int64_t>, int64_t> Records() {
    std::map<std::tuple<std::string, std::string, int64_t>, int64_t> out;
    auto rows = store_->Query("SELECT use, subscription_id, hour, quantity FROM usage_records");
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (const SqlRow& r : *rows) {
      EXPECT_EQ((r.Int(2) - Micros(kT0)) % kHour, 0);
      out[{r.Text(0), r.Text(1), (r.Int(2) - Micros(kT0)) / kHour}] += r.Int(3);
    }
    return out;
  }
  int64_t Total() {
    auto rows = store_->Query("SELECT SUM(quantity) FROM usage_records WHERE use <> 'Inference'");
    EXPECT_TRUE(rows.ok());
    return (*rows)[0].Int(0);
  }

  MetadataStorePtr store_;
  ManualClock clock_{kT0};
};

TEST(HourStartTest, FloorsToUtcHours) {
  EXPECT_EQ(HourStart(0), 0);
  EXPECT_EQ(HourStart(kHour - 1), 0);
  EXPECT_EQ(HourStart(kHour), kHour);
  EXPECT_EQ(HourStart(-1), -kHour);
}

TEST_F(MeterTest, SplitsAtHourBoundaries) {
  AddEndpointInstance("i-1", Micros(kT0 + absl::Minutes(30)));
  Meter meter(*store_, clock_);
  clock_.Set(kT0 + absl::Hours(2) + absl::Minutes(15));
  auto r = meter.Tick();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->instances, 1);
  auto rec = Records();
  EXPECT_EQ(rec.size(), 3u);
  EXPECT_EQ((rec[{"Endpoint", "", 0}]), 30 * 60 * kSec);
  EXPECT_EQ((rec[{"Endpoint", "", 1}]), kHour);
  EXPECT_EQ((rec[{"Endpoint", "", 2}]), 15 * 60 * kSec);
}

TEST_F(MeterTest, TicksAreIdempotentAndIncremental) {
  AddEndpointInstance("i-1", Micros(kT0));
  Meter meter(*store_, clock_);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(absl::Seconds(7));
    ASSERT_TRUE(meter.Tick().ok());
    ASSERT_TRUE(meter.Tick().ok());  // same instant again: adds nothing
  }
  EXPECT_EQ(Total(), 70 * kSec);
  auto through = store_->Query("SELECT value FROM meter_state WHERE name = 'metered_through'");
  ASSERT_TRUE(through.ok());
  EXPECT_EQ((*through)[0].Int(0), Micros(clock_.Now()));
}

TEST_F(MeterTest, MultipleInstancesAndStopMidHour) {
  AddEndpointInstance("i-1", Micros(kT0));
  AddEndpointInstance("i-2", Micros(kT0 + absl::Minutes(10)));
  AddTransformInstance("t-1", Micros(kT0 + absl::Minutes(50)), Micros(kT0 + absl::Minutes(70)));
  Meter meter(*store_, clock_);
  clock_.Set(kT0 + absl::Minutes(20));
  ASSERT_TRUE(meter.Tick().ok());
  StopEndpointInstance("i-2", Micros(kT0 + absl::Minutes(25)));
  clock_.Set(kT0 + absl::Minutes(90));
  ASSERT_TRUE(meter.Tick().ok());
  auto rec = Records();
  // i-1: 60 + 30 minutes; i-2: 15 minutes; t-1: 10 + 10 minutes.
  EXPECT_EQ((rec[{"Endpoint", "", 0}]), (60 + 15) * 60 * kSec);
  EXPECT_EQ((rec[{"Endpoint", "", 1}]), 30 * 60 * kSec);
  EXPECT_EQ((rec[{"Transform", "", 0}]), 10 * 60 * kSec);
  EXPECT_EQ((rec[{"Transform", "", 1}]), 10 * 60 * kSec);
  // Fully metered stopped rows are skipped from then on.
  clock_.Set(kT0 + absl::Minutes(95));
  auto r = meter.Tick();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->instances, 1);  // only the running i-1
}

TEST_F(MeterTest, LateStopBeforeTheCursorIsGivenBack) {
  AddEndpointInstance("i-1", Micros(kT0 + absl::Minutes(59)));
  Meter meter(*store_, clock_);
  clock_.Set(kT0 + absl::Minutes(61));
  ASSERT_TRUE(meter.Tick().ok());
  EXPECT_EQ(Total(), 120 * kSec);
  // The stopper read the clock before our tick but committed after it.
  StopEndpointInstance("i-1", Micros(kT0 + absl::Seconds(59 * 60 + 30)));
  ASSERT_TRUE(meter.Tick().ok());
  auto rec = Records();
  EXPECT_EQ((rec[{"Endpoint", "", 0}]), 30 * kSec);
  EXPECT_EQ((rec[{"Endpoint", "", 1}]), 0);
}

TEST_F(MeterTest, AttributesToTheNewestActiveSubscription) {
  AddSubscription("sub-old", "prod-1", Micros(kT0) - 10 * kHour, "Cancelled");
  AddSubscription("sub-a", "prod-1", Micros(kT0) - 5 * kHour);
  AddSubscription("sub-b", "prod-1", Micros(kT0) - 2 * kHour);
  AddEndpointInstance("i-1", Micros(kT0), R"(["prod-1"])");
  AddEndpointInstance("i-2", Micros(kT0), R"(["prod-unsubscribed"])");
  Meter meter(*store_, clock_);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(meter.Tick().ok());
  auto rows = store_->Query(
      "SELECT subscription_id, product_id, seller_account, quantity FROM usage_records"
      " ORDER BY subscription_id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), "");  // no subscription: infrastructure only
  EXPECT_EQ((*rows)[0].Text(1), "");
  EXPECT_EQ((*rows)[1].Text(0), "sub-b");
  EXPECT_EQ((*rows)[1].Text(1), "prod-1");
  EXPECT_EQ((*rows)[1].Text(2), kSeller);
  EXPECT_EQ((*rows)[1].Int(3), 10 * kSec);
}

TEST_F(MeterTest, CrashLosesAtMostOneTickAndNeverDoubleCounts) {
  std::string dir =
      ::testing::TempDir() + "/meter_crash_" + std::to_string(reinterpret_cast<uintptr_t>(this));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Open(dir + "/meta.db");
  AddEndpointInstance("i-1", Micros(kT0));
  AddEndpointInstance("i-never", Micros(kT0 + absl::Seconds(42)));
  {
    Meter meter(*store_, clock_);
    clock_.Set(kT0 + absl::Seconds(41));
    ASSERT_TRUE(meter.Tick().ok());
    // Inferences not flushed yet die with the process.
    meter.Inferences(kBuyer, "EP", Json::object(), 5);
    clock_.Set(kT0 + absl::Seconds(44));  // the crash: no tick ran at 44 s
  }                                       // dropped without Stop(): no last tick
  Open(dir + "/meta.db");
  auto closed = Meter::Recover(*store_);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(*closed, 2);
  auto rows = store_->Query(
      "SELECT instance_id, started_at, stopped_at FROM endpoint_instances"
      " ORDER BY instance_id");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(2), Micros(kT0 + absl::Seconds(41)));  // at its cursor
  EXPECT_EQ((*rows)[1].Int(2), (*rows)[1].Int(1));                // never metered: zero
  Meter meter(*store_, clock_);
  clock_.Set(kT0 + absl::Hours(3));  // downtime is never billed
  ASSERT_TRUE(meter.Tick().ok());
  ASSERT_TRUE(meter.Tick().ok());
  EXPECT_EQ(Total(), 41 * kSec);
  auto inf = store_->Query("SELECT COUNT(*) FROM usage_records WHERE use = 'Inference'");
  EXPECT_EQ((*inf)[0].Int(0), 0);
  EXPECT_EQ(*Meter::Recover(*store_), 0);
  store_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(MeterTest, FlushesInferencesPerHourAndProduct) {
  AddSubscription("sub-1", "prod-inf", Micros(kT0) - kHour);
  Meter meter(*store_, clock_, {.region = "eu-west-1"});
  Json marketplace = {{"Image", "x"}, {"ProductIds", {"prod-inf"}}};
  for (int i = 0; i < 10; ++i) meter.Inferences(kBuyer, "My-Endpoint", marketplace, 1);
  meter.Inferences(kBuyer, "My-Endpoint", marketplace, 3);
  meter.Inferences(kBuyer, "own", Json::object(), 2);
  clock_.Advance(absl::Hours(1));
  meter.Inferences(kBuyer, "My-Endpoint", marketplace, 4);
  auto r = meter.Tick();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->inferences, 19);
  ASSERT_TRUE(meter.Tick().ok());  // nothing pending: no double count
  auto rec = Records();
  EXPECT_EQ((rec[{"Inference", "sub-1", 0}]), 13);
  EXPECT_EQ((rec[{"Inference", "sub-1", 1}]), 4);
  EXPECT_EQ((rec[{"Inference", "", 0}]), 2);
  auto rows = store_->Query(
      "SELECT resource_arn, instance_type, product_id FROM usage_records WHERE"
      " subscription_id = 'sub-1' LIMIT 1");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Text(0), "arn:aws:sagemaker:eu-west-1:111111111111:endpoint/my-endpoint");
  EXPECT_EQ((*rows)[0].Text(1), "");
  EXPECT_EQ((*rows)[0].Text(2), "prod-inf");

  meter.SetInferencesEnabled(false);
  meter.Inferences(kBuyer, "My-Endpoint", marketplace, 100);
  r = meter.Tick();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inferences, 0);
}

TEST_F(MeterTest, StartStopRunsALastTick) {
  AddEndpointInstance("i-1", Micros(kT0));
  Meter meter(*store_, clock_, {.tick = absl::Hours(1)});
  meter.Start();
  clock_.Advance(absl::Seconds(5));
  meter.Stop();
  EXPECT_EQ(Total(), 5 * kSec);
}

TEST(MonthTest, ParsesAndRejects) {
  auto m = ParseUsageMonth("2026-11");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->start, Micros(absl::FromCivil(absl::CivilMonth(2026, 11), absl::UTCTimeZone())));
  EXPECT_EQ(m->end - m->start, int64_t{30} * 24 * kHour);
  for (const char* bad : {"", "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "abcd-ef"}) {
    EXPECT_EQ(ParseUsageMonth(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(UsageMonthOf(kT0).month, "2026-11");
}

TEST_F(MeterTest, UsageReportEstimatesCost) {
  std::string offer =
      R"({"Pricing":{},"PricingMicros":{"Endpoint":{"ml.m5.large":500000},"PerInference":1000},)"
      R"("FreeTrialDays":0})";
  AddSubscription("sub-1", "prod-1", Micros(kT0) - kHour, "Active", offer);
  // 2 h 30 min on one endpoint.
  AddEndpointInstance("i-1", Micros(kT0), R"(["prod-1"])");
  Meter meter(*store_, clock_);
  for (int i = 0; i < 3; ++i) meter.Inferences(kBuyer, "ep", {{"ProductIds", {"prod-1"}}}, 1);
  clock_.Set(kT0 + absl::Minutes(150));
  ASSERT_TRUE(meter.Tick().ok());
  auto report = UsageReport(*store_, kBuyer, UsageMonthOf(kT0));
  ASSERT_TRUE(report.ok()) << report.status();
  const Json& rows = (*report)["Rows"];
  ASSERT_EQ(rows.size(), 2u) << report->dump(2);
  EXPECT_EQ(rows[0]["Use"], "Endpoint");
  EXPECT_EQ(rows[0]["Pricing"], "Paid");
  EXPECT_EQ(rows[0]["Quantity"], "9000.000000");
  EXPECT_EQ(rows[0]["SoftwareCost"], "1.250000");
  EXPECT_EQ(rows[1]["Use"], "Inference");
  EXPECT_EQ(rows[1]["Quantity"], 3);
  EXPECT_EQ(rows[1]["SoftwareCost"], "0.003000");
  EXPECT_EQ((*report)["TotalCost"], "1.253000");
  // Another month is empty.
  auto other = UsageReport(*store_, kBuyer, *ParseUsageMonth("2026-10"));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)["Rows"].empty());
}

TEST_F(MeterTest, UsageReportZeroInTrialAndWithInfrastructurePrices) {
  std::string offer = R"({"PricingMicros":{"Endpoint":{"ml.m5.large":500000}},"FreeTrialDays":7})";
  AddSubscription("sub-1", "prod-1", Micros(kT0), "Active", offer, Micros(kT0),
                  Micros(kT0 + absl::Hours(1)));
  Exec(
      "INSERT INTO infrastructure_prices (instance_type, use, micros_per_hour, updated_at)"
      " VALUES ('ml.m5.large', 'Endpoint', 100000, 0)");
  // From the second hour on, an accepted price increase (billing part).
  Exec(
      "INSERT INTO subscription_offer_changes (id, subscription_id, product_id, account_id,"
      " effective_at, seq, pricing, kind, created_at) VALUES ('c1', 'sub-1', 'prod-1', ?, ?,"
      " 1, '{\"Endpoint\":{\"ml.m5.large\":800000}}', 'Increase', 0)",
      {std::string(kBuyer), Micros(kT0 + absl::Hours(1))});
  AddEndpointInstance("i-1", Micros(kT0), R"(["prod-1"])");
  Meter meter(*store_, clock_);
  clock_.Set(kT0 + absl::Hours(2));
  ASSERT_TRUE(meter.Tick().ok());
  auto report = UsageReport(*store_, kBuyer, UsageMonthOf(kT0));
  ASSERT_TRUE(report.ok()) << report.status();
  const Json& rows = (*report)["Rows"];
  ASSERT_EQ(rows.size(), 2u) << report->dump(2);
  std::map<std::string, Json> by_pricing;
  for (const Json& r : rows) by_pricing[r["Pricing"]] = r;
  EXPECT_EQ(by_pricing["FreeTrial"]["SoftwareCost"], "0.000000");
  EXPECT_EQ(by_pricing["FreeTrial"]["InfrastructureCost"], "0.100000");
  EXPECT_EQ(by_pricing["Paid"]["SoftwareCost"], "0.800000");  // the changed price
  EXPECT_EQ((*report)["TotalCost"], "1.000000");
}

}  // namespace
}  // namespace mercato::commerce

namespace mercato::commerce {
namespace {

// Inferences() from 1 and 2 threads, as the router's workers call it: every call is counted.
// It also prints the cost per call that bench/README.md reports (run it with
// MERCATO_OBSERVER_CALLS=1000000 --gtest_filter=*ConcurrentInferences*); nothing is timed.
TEST_F(MeterTest, ConcurrentInferencesAreAllCounted) {
  Meter meter(*store_, clock_);
  RealClock real;
  Json container = {{"Image", "x"}, {"ProductIds", {"prod-abcdefghijklmno"}}};
  const char* calls_env = std::getenv("MERCATO_OBSERVER_CALLS");
  const int kCalls = calls_env != nullptr ? std::atoi(calls_env) : 100'000;
  for (int threads : {1, 2}) {
    absl::Time start = real.Now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < kCalls; ++i) meter.Inferences(kBuyer, "My-Endpoint", container, 1);
      });
    }
    for (auto& w : workers) w.join();
    double ns = absl::ToDoubleNanoseconds(real.Now() - start) / kCalls;
    std::printf("Inferences(): %d thread(s), %.0f ns per call per thread\n", threads, ns);
  }
  auto r = meter.Tick();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inferences, 3 * kCalls);
}

}  // namespace
}  // namespace mercato::commerce
