// ReportService: builds a seller's data sets (commerce/dataset.h) from what the other
// commerce parts record — usage_records (metering), invoices / invoice_lines /
// disbursements (billing), subscriptions, product_visits, products and the endpoint /
// transform / training instance tables (see store/migrations.cc for the columns).
//
// Every data set holds only rows of products whose seller is the caller (both the row's
// seller_account, where it has one, and the product's owner must match). Buyers appear only
// as a customer reference id (dataset.h) and their tax address (state, country: the billing
// address, else their latest invoice's); never by account id or name. Money is exact micro-USD
// shown with 6 decimals; listing fees use options.listing_fee_ppm per product, rounded half away
// from zero per row. Daily fees are an estimate from usage and the subscription's offer snapshot
// (free-trial hours and test accounts at zero); billed figures come from invoices.
//
// Reading never writes and never reads the clock: the same stored rows always give the
// same data set. Thread-safe; borrows the store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "commerce/dataset.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct ReportOptions {
  // Key for customer reference ids (DeriveCustomerKey(master key)).
  std::string customer_key;
  // The operator's listing fee for a product, in ppm; unset means the billing part's
  // listing_fees row for the product, else 200000 (20 %).
  std::function<int64_t(std::string_view product_id)> listing_fee_ppm = nullptr;
};

// A request as the native API takes it: `date` "YYYY-MM-DD" for daily and weekly data sets
// (weekly: the ISO week holding the date), `month` "YYYY-MM" for monthly and disbursement
// data sets (a `date` is also accepted for those: monthly → its month; disbursement → the
// latest disbursement made in the 31 days up to that date, as Commerce Analytics does).
struct ReportRequest {
  std::string type;
  std::string date = "";
  std::string month = "";
};

class ReportService {
 public:
  ReportService(MetadataStore& store, ReportOptions options);

  // InvalidArgument with code UnknownDataSetType (the message lists the known types) or
  // InvalidDate (missing, malformed, or the wrong granularity).
  absl::StatusOr<DataSet> Generate(std::string_view seller, const ReportRequest& request);

 private:
  MetadataStore& store_;
  ReportOptions options_;
};

}  // namespace mercato::commerce
