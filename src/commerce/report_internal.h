// Internal to the report service (report_*.cc): the per-request context the data set
// builders share, and the builders themselves. Not a public interface.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "commerce/dataset.h"
#include "commerce/report_service.h"
#include "store/metadata_store.h"

namespace mercato::commerce::report_internal {

struct ProductRow {
  std::string title;
  std::string code;
  std::set<std::string> test_accounts;
};

// One request's view: the seller, the seller's products, and cached buyer addresses.
// Single-threaded (one per Generate call).
class ReportContext {
 public:
  ReportContext(MetadataStore& store, const ReportOptions& options, std::string seller)
      : store_(store), options_(options), seller_(std::move(seller)) {}

  absl::Status LoadProducts();
  MetadataStore& store() { return store_; }
  const std::string& seller() const { return seller_; }
  // The seller's product, or nullptr when the id is not one of the seller's products.
  const ProductRow* Product(const std::string& product_id) const;
  std::string Ref(std::string_view buyer) const;
  // {state, country} of the buyer's latest invoice; {"", ""} when never invoiced.
  absl::StatusOr<std::pair<std::string, std::string>> Geo(const std::string& buyer);
  // Customer Reference ID, User's State, User's Country, Product Title, Product Code.
  absl::StatusOr<std::vector<std::string>> CustomerProductCells(const std::string& buyer,
                                                                const std::string& product_id);
  int64_t ListingFeePpm(const std::string& product_id);

 private:
  MetadataStore& store_;
  const ReportOptions& options_;
  std::string seller_;
  std::map<std::string, ProductRow> products_;
  std::map<std::string, std::pair<std::string, std::string>> geo_;
  std::map<std::string, int64_t> fees_;
};

inline constexpr int64_t kDefaultListingFeePpm = 200000;

using Rows = std::vector<std::vector<std::string>>;

// Daily data sets (report_daily.cc), over [p.start, p.end).
absl::StatusOr<Rows> UsageByInstanceType(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> DailyFees(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> FreeTrialConversions(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> NewInstances(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> NewSubscribers(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> CanceledSubscribers(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> RefTags(ReportContext& c, const ReportPeriod& p);

// Monthly and disbursement data sets (report_monthly.cc).
absl::StatusOr<Rows> HourlyMonthlySubscriptions(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> BillingAndRevenue(ReportContext& c, const ReportPeriod& p);
absl::StatusOr<Rows> SalesAndUseTax(ReportContext& c, const ReportPeriod& p);
// `type` one of the disbursed_amount_* names; `month` the disbursement's month.
absl::StatusOr<Rows> Disbursed(ReportContext& c, std::string_view type, const std::string& month);
// The month of the seller's latest disbursement created in [from, to), or "" if none.
absl::StatusOr<std::string> LatestDisbursementMonth(ReportContext& c, int64_t from, int64_t to);

}  // namespace mercato::commerce::report_internal
