// Month-close benchmark: 10,000 buyers, 1,000,000 usage records in a file-backed SQLite
// store (WAL), closed once; prints the time to close and the documents written, then the
// time to generate a few of the seller's reports over that month.
// Usage: billing_bench [buyers] [records_per_buyer]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/time/civil_time.h"
#include "base/status.h"
#include "commerce/billing_service.h"
#include "commerce/report_service.h"
#include "fmt/format.h"
#include "store/sqlite_store.h"

using namespace mercato;            // NOLINT: a benchmark's main
using namespace mercato::commerce;  // NOLINT

namespace {

int64_t At(int y, int mo, int d) {
  return absl::ToUnixMicros(absl::FromCivil(absl::CivilDay(y, mo, d), absl::UTCTimeZone()));
}

absl::Status Run(int buyers, int per_buyer) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("billing-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  ASSIGN_OR_RETURN(MetadataStorePtr store, SqliteStore::Open({.path = (dir / "m.db").string()}));
  ManualClock clock(absl::FromUnixMicros(At(2026, 11, 2)));
  Json offer = {{"PricingMicros",
                 {{"Endpoint", {{"ml.m5.large", 333333}, {"ml.c5.xlarge", 450000}}},
                  {"Transform", {{"ml.m5.large", 200000}}},
                  {"PerInference", 1000}}}};
  const std::string seller = "900000000000";
  const char* types[] = {"ml.m5.large", "ml.c5.xlarge"};
  const char* uses[] = {"Endpoint", "Transform", "Inference"};
  {
    ASSIGN_OR_RETURN(TransactionPtr tx, store->Begin());
    // The listed product the reports look up (the seller's own products only).
    RETURN_IF_ERROR(
        tx->Exec("INSERT INTO products (id, code, seller_account, title, short_description,"
                 " long_description, usage_instructions, preprocessing, categories, highlights,"
                 " support_contact, eula, logo_blob, logo_type, notebook_blob, sample_data,"
                 " instance_types, visibility, kind, offer, is_free, free_trial_days,"
                 " allow_list, test_accounts, rating_sum, rating_count, created_at, updated_at,"
                 " published_at, removed_at) VALUES ('prod-x', 'code', ?, 'Bench', '', '', '',"
                 " '', '[]', '[]', '', '', '', '', '', '{}', '[]', 'Public', 'model-package',"
                 " ?, 0, 7, '[]', '[\"100000000007\"]', 0, 0, 0, 0, 0, 0)",
                 {seller, offer.dump()})
            .status());
    for (int b = 0; b < buyers; ++b) {
      std::string buyer = fmt::format("1{:011d}", b);
      std::string sub = fmt::format("sub-{}", b);
      int64_t trial = b % 10 == 0 ? At(2026, 10, 5) : 0;  // 10 % in a trial
      RETURN_IF_ERROR(
          tx->Exec(
                "INSERT INTO subscriptions (id, account_id, product_id, product_code, title,"
                " seller_account, status, offer, eula_hash, ref_tag, trial_start, trial_end,"
                " created_at, cancelled_at, grace_ends_at, expired_at, reminder_sent,"
                " expiry_notified, use_stopped, stop_attempts) VALUES (?, ?, 'prod-x', '',"
                " '', ?, 'Active', ?, '', '', ?, ?, 0, 0, 0, 0, 0, 0, 0, 0)",
                {sub, buyer, seller, offer.dump(), trial, trial ? trial + 7 * 86400'000'000LL : 0})
              .status());
      for (int r = 0; r < per_buyer; ++r) {
        int64_t hour = At(2026, 10, 1) + int64_t{r % 700} * 3'600'000'000;
        const char* use = uses[r % 3];
        bool inf = r % 3 == 2;
        RETURN_IF_ERROR(
            tx->Exec("INSERT INTO usage_records (buyer_account, subscription_id, product_id,"
                     " seller_account, resource_arn, use, instance_type, hour, quantity,"
                     " updated_at) VALUES (?, ?, 'prod-x', ?, ?, ?, ?, ?, ?, 0)",
                     {buyer, sub, seller, fmt::format("arn:res/{}", r / 700), std::string(use),
                      inf ? std::string() : std::string(types[r % 2]), hour,
                      inf ? int64_t{r} : int64_t{1'234'567'891} + r})
                .status());
      }
    }
    RETURN_IF_ERROR(tx->Commit());
  }
  PriceList prices(*store, clock, sandbox::InstanceTypes::Default());
  RETURN_IF_ERROR(prices
                      .SetInfrastructure({{"Endpoint", {{"ml.m5.large", "0.115"}}},
                                          {"Transform", {{"ml.m5.large", "0.10"}}}})
                      .status());
  TaxTable taxes(*store, clock);
  RETURN_IF_ERROR(taxes.SetRates({{"US", {{"WA", "0.065"}}}}).status());
  PriceChanges::Options po;
  po.product = [&](std::string_view) -> absl::StatusOr<BillingProduct> {
    return BillingProduct{"prod-x", "code", "Bench", seller, {"100000000007"}, offer};
  };
  PriceChanges changes(*store, clock, po);
  BillingService billing(*store, clock, prices, taxes, changes, {.product = po.product});
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Json r, billing.CloseMonth("2026-10"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto again_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Json again, billing.CloseMonth("2026-10"));
  double again_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - again_start).count();
  ASSIGN_OR_RETURN(SqlRows lines, store->Query("SELECT COUNT(*) FROM invoice_lines"));
  // Report generation over the same month (the seller of every product here).
  ReportService reports(*store, {.customer_key = "bench-key"});
  for (const ReportRequest& req :
       {ReportRequest{.type = "daily_business_usage_by_instance_type", .date = "2026-10-02"},
        ReportRequest{.type = "daily_business_fees", .date = "2026-10-02"},
        ReportRequest{.type = "monthly_revenue_billing_and_revenue_data", .month = "2026-10"},
        ReportRequest{.type = "customer_subscriber_hourly_monthly_subscriptions",
        .month = "2026-10"},
        ReportRequest{.type = "disbursed_amount_by_product", .date = "2026-11-02"}}) {
    auto report_start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(DataSet d, reports.Generate(seller, req));
    double report_secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - report_start).count();
    std::printf("report %s: %zu rows, %zu bytes of CSV: %.3f s\n", req.type.c_str(), d.rows.size(),
                DataSetCsv(d).size(), report_secs);
  }
  std::printf(
      "month close: %d buyers, %lld usage records: %.2f s (%lld invoices, %lld lines, "
      "%lld disbursements, total %s USD); second close (idempotent): %.3f s\n",
      buyers, static_cast<long long>(buyers) * per_buyer, secs,
      static_cast<long long>(r["Invoices"].get<int64_t>()), static_cast<long long>(lines[0].Int(0)),
      static_cast<long long>(r["Disbursements"].get<int64_t>()),
      r["Total"].get<std::string>().c_str(), again_secs);
  store.reset();
  std::filesystem::remove_all(dir);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  int buyers = argc > 1 ? std::atoi(argv[1]) : 10'000;
  int per_buyer = argc > 2 ? std::atoi(argv[2]) : 100;
  absl::Status s = Run(buyers, per_buyer);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
