// TransformJobSpec: a CreateTransformJob request (SageMaker's JSON shape), validated and
// parsed into what the runner needs. Validation errors are statuses carrying
// ValidationException (base/errors.h) with messages in AWS's own style ("1 validation error
// detected: Value '101' at 'maxPayloadInMB' failed to satisfy constraint: ...").
//
// The stored record keeps the request JSON; the runner re-parses it with FromRequest, so the
// spec is never serialized twice. Pure; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "jobs/transform_job_data.h"
#include "sandbox/instance_types.h"

namespace mercato::jobs::transform {

inline constexpr int kDefaultMaxPayloadInMB = 6;
inline constexpr int kDefaultMaxConcurrentTransforms = 1;
inline constexpr int kDefaultInvocationsTimeoutSeconds = 600;
inline constexpr int kDefaultInvocationsMaxRetries = 3;
inline constexpr int kMaxTransformInstances = 10;

struct S3Location {
  std::string bucket;
  std::string key;  // may be empty (a whole bucket)
};
// s3://BUCKET[/KEY]; InvalidArgument otherwise.
absl::StatusOr<S3Location> ParseS3Location(std::string_view uri);

struct TransformJobSpec {
  std::string name;
  std::string model_name;
  // Unset when the request leaves them to the container (/execution-parameters) or defaults.
  std::optional<int> max_concurrent_transforms;
  std::optional<int> max_payload_mb;
  std::optional<BatchStrategy> batch_strategy;
  std::map<std::string, std::string> environment;

  std::string data_type;  // S3Prefix | ManifestFile
  S3Location input;
  std::string content_type;
  bool gzip = false;
  SplitType split = SplitType::kNone;

  S3Location output;
  std::string accept;
  AssembleWith assemble = AssembleWith::kNone;

  std::string instance_type;
  int instance_count = 1;

  std::string input_filter = "$";
  std::string output_filter = "$";
  bool join_input = false;

  int invocations_timeout_seconds = kDefaultInvocationsTimeoutSeconds;
  int invocations_max_retries = kDefaultInvocationsMaxRetries;

  // Validates `in`; `types` (when non-null) must know TransformResources.InstanceType.
  static absl::StatusOr<TransformJobSpec> FromRequest(const Json& in,
                                                      const sandbox::InstanceTypes* types);
};

}  // namespace mercato::jobs::transform
