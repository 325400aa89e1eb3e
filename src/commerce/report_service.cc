#include "commerce/report_service.h"

#include "absl/time/time.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/status.h"
#include "commerce/report_internal.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace report_internal {

absl::Status ReportContext::LoadProducts() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT id, title, code, test_accounts FROM products"
                                              " WHERE seller_account = ?",
                                              {seller_}));
  for (const SqlRow& r : rows) {
    ProductRow p{r.Text(1), r.Text(2), {}};
    auto accounts = ParseJson(r.Text(3));
    if (accounts.ok() && accounts->is_array()) {
      for (const Json& a : *accounts) {
        if (a.is_string()) p.test_accounts.insert(a.get<std::string>());
      }
    }
    products_[r.Text(0)] = std::move(p);
  }
  return absl::OkStatus();
}

const ProductRow* ReportContext::Product(const std::string& product_id) const {
  auto it = products_.find(product_id);
  return it == products_.end() ? nullptr : &it->second;
}

std::string ReportContext::Ref(std::string_view buyer) const {
  return CustomerReferenceId(options_.customer_key, buyer);
}

absl::StatusOr<std::pair<std::string, std::string>> ReportContext::Geo(const std::string& buyer) {
  auto it = geo_.find(buyer);
  if (it != geo_.end()) return it->second;
  // The billing part's address book first (its own table: a failing query means that part
  // is not built), else the address the buyer's latest invoice was taxed at.
  std::pair<std::string, std::string> geo;
  auto address =
      store_.Query("SELECT state, country FROM billing_addresses WHERE account_id = ?", {buyer});
  if (address.ok() && !address->empty()) {
    geo = {(*address)[0].Text(0), (*address)[0].Text(1)};
  } else {
    ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT tax_state, tax_country FROM invoices"
                                                " WHERE buyer_account = ?"
                                                " ORDER BY issued_at DESC, id DESC LIMIT 1",
                                                {buyer}));
    if (!rows.empty()) geo = {rows[0].Text(0), rows[0].Text(1)};
  }
  geo_[buyer] = geo;
  return geo;
}

absl::StatusOr<std::vector<std::string>> ReportContext::CustomerProductCells(
    const std::string& buyer, const std::string& product_id) {
  ASSIGN_OR_RETURN(auto geo, Geo(buyer));
  const ProductRow* p = Product(product_id);
  return std::vector<std::string>{Ref(buyer), geo.first, geo.second, p ? p->title : "",
                                  p ? p->code : ""};
}

int64_t ReportContext::ListingFeePpm(const std::string& product_id) {
  if (options_.listing_fee_ppm) return options_.listing_fee_ppm(product_id);
  auto it = fees_.find(product_id);
  if (it != fees_.end()) return it->second;
  // The operator's per-product override (billing part's table), else the default 20 %.
  int64_t ppm = kDefaultListingFeePpm;
  auto rows = store_.Query("SELECT rate_ppm FROM listing_fees WHERE product_id = ?", {product_id});
  if (rows.ok() && !rows->empty()) ppm = (*rows)[0].Int(0);
  fees_[product_id] = ppm;
  return ppm;
}

}  // namespace report_internal

namespace {

using report_internal::ReportContext;
using report_internal::Rows;

absl::Status DateError(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidDate", message);
}

std::string KnownTypes() {
  std::string out;
  for (const DataSetSpec& s : DataSetSpecs()) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

}  // namespace

ReportService::ReportService(MetadataStore& store, ReportOptions options)
    : store_(store), options_(std::move(options)) {}

absl::StatusOr<DataSet> ReportService::Generate(std::string_view seller,
                                                const ReportRequest& request) {
  const DataSetSpec* spec = FindDataSetSpec(request.type);
  if (spec == nullptr) {
    return AwsError(
        absl::StatusCode::kInvalidArgument, "UnknownDataSetType",
        fmt::format("Unknown data set type '{}'; known types: {}", request.type, KnownTypes()));
  }
  if (!request.date.empty() && !request.month.empty()) {
    return DateError("give either date (YYYY-MM-DD) or month (YYYY-MM), not both");
  }
  ReportPeriod period;
  std::string disbursement_month;
  switch (spec->period) {
    case PeriodKind::kDay:
    case PeriodKind::kWeek: {
      if (request.date.empty()) {
        return DateError(fmt::format("{} is a daily data set: give date=YYYY-MM-DD", spec->name));
      }
      ASSIGN_OR_RETURN(absl::CivilDay day, ParseReportDay(request.date));
      period = spec->period == PeriodKind::kDay ? DayPeriod(day) : WeekPeriod(day);
      break;
    }
    case PeriodKind::kMonth:
    case PeriodKind::kDisbursement: {
      if (request.month.empty() && request.date.empty()) {
        return DateError(fmt::format("{} is a monthly data set: give month=YYYY-MM", spec->name));
      }
      if (!request.month.empty()) {
        ASSIGN_OR_RETURN(absl::CivilMonth month, ParseReportMonth(request.month));
        period = MonthPeriod(month);
      } else {
        ASSIGN_OR_RETURN(absl::CivilDay day, ParseReportDay(request.date));
        period = MonthPeriod(absl::CivilMonth(day));
      }
      break;
    }
  }

  ReportContext ctx(store_, options_, std::string(seller));
  RETURN_IF_ERROR(ctx.LoadProducts());
  if (spec->period == PeriodKind::kDisbursement) {
    disbursement_month = period.month;
    if (request.month.empty()) {
      // A day: the latest disbursement in the 31 days up to and including it.
      ASSIGN_OR_RETURN(absl::CivilDay day, ParseReportDay(request.date));
      ReportPeriod d = DayPeriod(day);
      ASSIGN_OR_RETURN(std::string found,
                       report_internal::LatestDisbursementMonth(
                           ctx, d.end - absl::ToInt64Microseconds(absl::Hours(24 * 31)), d.end));
      disbursement_month = found;  // "" matches no disbursement: nothing paid out lately
      if (!found.empty()) {
        ASSIGN_OR_RETURN(absl::CivilMonth m, ParseReportMonth(found));
        period = MonthPeriod(m);
      }
    }
  }

  DataSet out;
  out.type = std::string(spec->name);
  out.period = period.label;
  for (std::string_view c : spec->columns) out.columns.emplace_back(c);
  absl::StatusOr<Rows> rows;
  std::string_view name = spec->name;
  if (name == "daily_business_usage_by_instance_type") {
    rows = report_internal::UsageByInstanceType(ctx, period);
  } else if (name == "daily_business_fees") {
    rows = report_internal::DailyFees(ctx, period);
  } else if (name == "daily_business_free_trial_conversions") {
    rows = report_internal::FreeTrialConversions(ctx, period);
  } else if (name == "daily_business_new_instances") {
    rows = report_internal::NewInstances(ctx, period);
  } else if (name == "daily_business_new_product_subscribers") {
    rows = report_internal::NewSubscribers(ctx, period);
  } else if (name == "daily_business_canceled_product_subscribers") {
    rows = report_internal::CanceledSubscribers(ctx, period);
  } else if (name == "daily_business_ref_tags" || name == "weekly_business_ref_tags") {
    rows = report_internal::RefTags(ctx, period);
  } else if (name == "customer_subscriber_hourly_monthly_subscriptions") {
    rows = report_internal::HourlyMonthlySubscriptions(ctx, period);
  } else if (name == "monthly_revenue_billing_and_revenue_data") {
    rows = report_internal::BillingAndRevenue(ctx, period);
  } else if (name == "us_sales_and_use_tax_records") {
    rows = report_internal::SalesAndUseTax(ctx, period);
  } else {
    rows = report_internal::Disbursed(ctx, name, disbursement_month);
  }
  if (!rows.ok()) return rows.status();
  out.rows = std::move(*rows);
  return out;
}

}  // namespace mercato::commerce
