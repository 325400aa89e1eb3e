// TrainingJobSpec: a CreateTrainingJob request (SageMaker's JSON shape), validated and
// parsed into what the training runner needs, plus the pieces of a training job that are
// pure computation: the /opt/ml/input/config files per host, the mapping of S3 keys to
// channel files, and MetricDefinitions applied to log lines.
//
// Validation errors are statuses carrying ValidationException (base/errors.h) with messages
// in AWS's own style ("1 validation error detected: Value null at 'roleArn' failed to
// satisfy constraint: Member must not be null"). What Mercato does not support (Pipe and
// FastFile input, FileSystemDataSource, AugmentedManifestFile, Gzip
// channels) is refused with a message saying so rather than silently ignored.
//
// The stored record keeps the request JSON; the runner re-parses it with FromRequest, so the
// spec is never serialized twice. Everything here is pure and thread-safe, except
// MetricCollector, which is single-owner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/json.h"
#include "sandbox/instance_types.h"

namespace mercato::jobs::training {

inline constexpr int64_t kDefaultMaxRuntimeSeconds = 86400;
inline constexpr int64_t kMaxMaxRuntimeSeconds = 28 * 86400;
inline constexpr int kDefaultMaxInstanceCount = 8;

struct ChannelSpec {
  std::string name;
  std::string data_type;  // S3Prefix | ManifestFile
  std::string s3_uri;
  std::string content_type;  // may be empty
};

struct MetricSpec {
  std::string name;
  std::string regex;
};

struct TrainingJobSpec {
  std::string name;
  std::string image;  // AlgorithmSpecification.TrainingImage
  // AlgorithmSpecification.AlgorithmName: the runner's algorithm resolver turns it into an
  // image (then `image`) owned by `image_account` (empty: the job's own account).
  std::string algorithm_name;
  std::string image_account;
  std::vector<std::string> product_ids;  // marketplace products the algorithm belongs to
  std::vector<std::string> entrypoint;   // ContainerEntrypoint (empty: the image's)
  std::vector<std::string> arguments;    // ContainerArguments (empty: ["train"])
  std::string role_arn;
  std::map<std::string, std::string> hyperparameters;
  std::map<std::string, std::string> environment;
  std::vector<ChannelSpec> channels;
  std::string output_path;  // S3OutputPath, s3://BUCKET[/PREFIX]
  std::string instance_type;
  int instance_count = 1;
  int64_t max_runtime_seconds = kDefaultMaxRuntimeSeconds;
  std::vector<MetricSpec> metrics;

  // Validates `in`; `types` (when non-null) must know ResourceConfig.InstanceType.
  // `max_instance_count` bounds ResourceConfig.InstanceCount (ResourceLimitExceeded beyond).
  static absl::StatusOr<TrainingJobSpec> FromRequest(
      const Json& in, const sandbox::InstanceTypes* types,
      int max_instance_count = kDefaultMaxInstanceCount);
};

// The request as DescribeTrainingJob echoes it: defaults filled in (TrainingInputMode of
// channels, S3DataDistributionType, CompressionType, RecordWrapperType, StoppingCondition,
// the Enable* flags). `request` must have passed FromRequest.
Json DescribedRequest(const Json& request);

// "algo-1" .. "algo-N".
std::vector<std::string> HostNames(int count);

// Writes hyperparameters.json, inputdataconfig.json and resourceconfig.json for `host`
// (current_host, hosts sorted algo-1..N, network_interface_name "eth0") into `config_dir`
// (created if missing).
absl::Status WriteHostConfig(const std::string& config_dir, const TrainingJobSpec& spec,
                             const std::string& host);

// Where an S3Prefix channel puts `key` listed under `prefix`, relative to the channel's
// directory: the key's remainder after the prefix (a prefix ending in '/' or followed by
// '/' in the key), the file name for a key equal to the prefix, and otherwise the key's
// remainder after the prefix's last '/' (prefix "data/tr" takes "data/train.csv" as
// "train.csv"). nullopt for keys that are not files (ending in '/') or whose relative path
// has "." or ".." components.
std::optional<std::string> ChannelRelativePath(std::string_view prefix, std::string_view key);

// A manifest file's entries: [{"prefix": "s3://bucket/p/"}, "rel/key1", ...] → (prefix URI,
// relative keys). InvalidArgument (a message fit for a FailureReason) when malformed.
struct Manifest {
  std::string prefix;  // s3://bucket/p/
  std::vector<std::string> keys;
};
absl::StatusOr<Manifest> ParseManifest(std::string_view text);

// Applies MetricDefinitions to log lines: the first capture group (or the whole match) of
// each regex, parsed as a number, is the metric's latest value. Lines longer than 4 KiB are
// matched on their first 4 KiB.
class MetricCollector {
 public:
  // InvalidArgument if a regex does not compile (FromRequest has checked them already).
  static absl::StatusOr<MetricCollector> Create(const std::vector<MetricSpec>& metrics);
  void Feed(std::string_view line, absl::Time time);
  // FinalMetricDataList: [{"MetricName", "Value", "Timestamp" (epoch seconds)}] in
  // definition order, metrics never seen left out.
  Json Final() const;
  bool empty() const { return metrics_.empty(); }

 private:
  struct Metric {
    std::string name;
    std::regex regex;
    std::optional<double> value;
    absl::Time time;
  };
  std::vector<Metric> metrics_;
};

}  // namespace mercato::jobs::training
