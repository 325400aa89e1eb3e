#include "commerce/dataset_publisher.h"

#include <cmath>

#include "absl/time/time.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

absl::StatusOr<std::string> StringMember(const Json& in, const char* name, bool required,
                                         size_t max_len) {
  if (!in.contains(name) || in[name].is_null()) {
    if (required) return Invalid(fmt::format("{} is required", name));
    return std::string();
  }
  if (!in[name].is_string()) return Invalid(fmt::format("{} must be a string", name));
  std::string v = in[name].get<std::string>();
  if (required && v.empty()) return Invalid(fmt::format("{} must not be empty", name));
  if (v.size() > max_len) {
    return Invalid(fmt::format("{} must be at most {} characters", name, max_len));
  }
  return v;
}

absl::StatusOr<absl::CivilDay> ParsePublicationDate(const Json& v) {
  if (v.is_number()) {
    double seconds = v.get<double>();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 253402300799.0) {
      return Invalid("dataSetPublicationDate is out of range");
    }
    absl::Time t = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
    return absl::ToCivilDay(t, absl::UTCTimeZone());
  }
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.size() == 10) {
      auto day = ParseReportDay(s);
      if (!day.ok()) return Invalid(std::string(day.status().message()));
      return *day;
    }
    auto t = ParseIso8601(s);
    if (!t.ok()) return Invalid(fmt::format("dataSetPublicationDate '{}' is not a date", s));
    return absl::ToCivilDay(*t, absl::UTCTimeZone());
  }
  return Invalid("dataSetPublicationDate must be a timestamp");
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string h = HexEncode(b);
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20));
}

}  // namespace

absl::StatusOr<GenerateDataSetInput> ParseGenerateDataSetInput(const Json& in) {
  if (!in.is_object()) return Invalid("the input must be a JSON object");
  GenerateDataSetInput out;
  ASSIGN_OR_RETURN(out.data_set_type, StringMember(in, "dataSetType", true, 255));
  if (FindDataSetSpec(out.data_set_type) == nullptr) {
    return Invalid(fmt::format("dataSetType '{}' is not supported", out.data_set_type));
  }
  if (!in.contains("dataSetPublicationDate") || in["dataSetPublicationDate"].is_null()) {
    return Invalid("dataSetPublicationDate is required");
  }
  ASSIGN_OR_RETURN(out.publication_date, ParsePublicationDate(in["dataSetPublicationDate"]));
  ASSIGN_OR_RETURN(out.role_name_arn, StringMember(in, "roleNameArn", true, 2048));
  ASSIGN_OR_RETURN(out.bucket, StringMember(in, "destinationS3BucketName", true, 63));
  ASSIGN_OR_RETURN(out.prefix, StringMember(in, "destinationS3Prefix", false, 900));
  ASSIGN_OR_RETURN(out.sns_topic_arn, StringMember(in, "snsTopicArn", true, 256));
  if (out.sns_topic_arn.rfind("arn:", 0) != 0) {
    return Invalid("snsTopicArn must be an ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)");
  }
  if (in.contains("customerDefinedValues") && !in["customerDefinedValues"].is_null()) {
    const Json& cdv = in["customerDefinedValues"];
    if (!cdv.is_object() || cdv.empty() || cdv.size() > 5) {
      return Invalid("customerDefinedValues must be a map of 1 to 5 entries");
    }
    for (const auto& [k, v] : cdv.items()) {
      if (k.empty() || k.size() > 255 || !v.is_string() || v.get<std::string>().empty() ||
          v.get<std::string>().size() > 255) {
        return Invalid("customerDefinedValues keys and values must be 1 to 255 characters");
      }
    }
    out.customer_defined_values = cdv;
  }
  return out;
}

DataSetPublisher::DataSetPublisher(MetadataStore& store, const Clock& clock, ReportService& reports,
                                   PublisherOptions options)
    : store_(store), clock_(clock), reports_(reports), options_(std::move(options)) {}

absl::StatusOr<PublishedDataSet> DataSetPublisher::Generate(std::string_view seller,
                                                            const GenerateDataSetInput& input) {
  if (!options_.check_bucket || !options_.put_object) {
    return absl::UnavailableError("data set publishing: the object store is not available");
  }
  if (absl::Status s = options_.check_bucket(seller, input.bucket); !s.ok()) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                    fmt::format("AccessDenied: cannot write to bucket '{}': {}", input.bucket,
                                std::string(s.message())));
  }
  const absl::CivilDay d = input.publication_date;
  std::string day = fmt::format("{:04d}-{:02d}-{:02d}", d.year(), d.month(), d.day());
  ASSIGN_OR_RETURN(
      DataSet data,
      reports_.Generate(seller, {.type = input.data_set_type, .date = day, .month = ""}));
  std::string prefix = input.prefix;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  PublishedDataSet out;
  out.request_id = NewUuid();
  out.csv_key = fmt::format("{}{}_{}.csv", prefix, input.data_set_type, day);
  out.meta_key = fmt::format("{}{}_{}.meta.json", prefix, input.data_set_type, day);
  out.rows = data.rows.size();
  int64_t now = absl::ToUnixMicros(clock_.Now());

  ReportPeriod coverage = DayPeriod(d);
  const DataSetSpec* spec = FindDataSetSpec(input.data_set_type);
  if (spec->period == PeriodKind::kWeek) coverage = WeekPeriod(d);
  if (spec->period == PeriodKind::kMonth || spec->period == PeriodKind::kDisbursement) {
    auto month = ParseReportMonth(data.period);
    if (month.ok()) coverage = MonthPeriod(*month);
  }
  Json meta = {
      {"dataSetRequestId", out.request_id},
      {"dataSetType", input.data_set_type},
      {"dataSetPublicationDate", day},
      {"dataSetCoverageRange",
       {{"startDateTime", FormatTime(coverage.start)}, {"endDateTime", FormatTime(coverage.end)}}},
      {"processingDateTime", FormatTime(now)},
      {"dataSetS3Location", {{"bucket", input.bucket}, {"key", out.csv_key}}},
      {"dataSetMetaDataS3Location", {{"bucket", input.bucket}, {"key", out.meta_key}}},
      {"rowCount", out.rows},
      {"customerDefinedValues", input.customer_defined_values},
  };
  RETURN_IF_ERROR(
      options_.put_object(seller, input.bucket, out.csv_key, "text/csv", DataSetCsv(data)));
  RETURN_IF_ERROR(
      options_.put_object(seller, input.bucket, out.meta_key, "application/json", meta.dump(2)));
  RETURN_IF_ERROR(
      store_
          .Exec("INSERT INTO dataset_requests (id, seller_account, data_set_type,"
                " publication_date, bucket, csv_key, meta_key, role_name_arn,"
                " sns_topic_arn, customer_defined_values, row_count, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {out.request_id, std::string(seller), input.data_set_type, day, input.bucket,
                 out.csv_key, out.meta_key, input.role_name_arn, input.sns_topic_arn,
                 input.customer_defined_values.dump(), static_cast<int64_t>(out.rows), now})
          .status());
  if (options_.notify) {
    Json note = {{"dataSetRequestId", out.request_id},
                 {"snsTopicArn", input.sns_topic_arn},
                 {"dataSetType", input.data_set_type},
                 {"dataSetPublicationDate", day},
                 {"bucket", input.bucket},
                 {"key", out.csv_key},
                 {"metaKey", out.meta_key},
                 {"customerDefinedValues", input.customer_defined_values}};
    options_.notify(seller, "dataset.published",
                    fmt::format("Data set {} for {} published", input.data_set_type, day),
                    fmt::format("s3://{}/{} is ready ({} rows); SNS topic {}.", input.bucket,
                                out.csv_key, out.rows, input.sns_topic_arn),
                    note);
  }
  return out;
}

}  // namespace mercato::commerce
