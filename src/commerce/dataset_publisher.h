// DataSetPublisher: Commerce Analytics' GenerateDataSet. Builds a seller's data set for a
// publication date (report_service.h), writes `{prefix/}{dataSetType}_YYYY-MM-DD.csv` and
// `{prefix/}{dataSetType}_YYYY-MM-DD.meta.json` into a bucket the seller owns (an existing
// file of that name is replaced, as AWS does), records the request (table
// dataset_requests) and the SNS topic as a notification of type "dataset.published" to the
// seller, and returns the request id (a UUID).
//
// The S3 side and notifications are std::function options so the domain does not know the
// object store or the marketplace wiring; an unset option fails with Unavailable. Errors:
// InvalidArgument (code ValidationException) for bad input; PermissionDenied (code
// AccessDenied) when the bucket is not the seller's. Thread-safe; borrows the store, clock
// and report service.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "base/clock.h"
#include "base/json.h"
#include "commerce/report_service.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct PublisherOptions {
  // OK when `bucket` exists and belongs to `account`; else an error (e.g. NoSuchBucket,
  // AccessDenied) that the publisher reports as AccessDenied.
  std::function<absl::Status(std::string_view account, std::string_view bucket)> check_bucket;
  std::function<absl::Status(std::string_view account, std::string_view bucket,
                             std::string_view key, std::string_view content_type,
                             std::string_view data)>
      put_object;
  std::function<void(std::string_view account, std::string_view type, std::string_view subject,
                     std::string_view message, const Json& data)>
      notify;
};

struct GenerateDataSetInput {
  std::string data_set_type;
  absl::CivilDay publication_date;
  std::string role_name_arn;
  std::string bucket;
  std::string prefix;  // optional
  std::string sns_topic_arn;
  Json customer_defined_values = Json::object();  // optional, up to 5 string pairs
};

// Validates the GenerateDataSet JSON input (members as botocore sends them; the date as
// epoch seconds, or an ISO 8601 / YYYY-MM-DD string).
absl::StatusOr<GenerateDataSetInput> ParseGenerateDataSetInput(const Json& input);

struct PublishedDataSet {
  std::string request_id;
  std::string csv_key;
  std::string meta_key;
  size_t rows = 0;
};

class DataSetPublisher {
 public:
  DataSetPublisher(MetadataStore& store, const Clock& clock, ReportService& reports,
                   PublisherOptions options);
  absl::StatusOr<PublishedDataSet> Generate(std::string_view seller,
                                            const GenerateDataSetInput& input);

 private:
  MetadataStore& store_;
  const Clock& clock_;
  ReportService& reports_;
  PublisherOptions options_;
};

}  // namespace mercato::commerce
