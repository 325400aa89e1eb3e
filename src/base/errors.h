// Errors that carry a protocol error code. Libraries return absl::Status; when the caller
// must see a specific AWS code (`NoSuchBucket`, `SignatureDoesNotMatch`, ...) the status
// carries it as a payload. api/ turns a Status into the protocol's own shape in one place
// per protocol (S3 XML, SageMaker JSON, native JSON). Header-only; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"

namespace mercato {

inline constexpr std::string_view kAwsCodePayload = "mercato/aws-code";

// A status whose canonical code drives the HTTP status and whose `aws_code` names the
// protocol error (e.g. AwsError(absl::StatusCode::kNotFound, "NoSuchKey", "...")).
inline absl::Status AwsError(absl::StatusCode code, std::string_view aws_code,
                             std::string_view message) {
  absl::Status s(code, std::string(message));
  s.SetPayload(absl::string_view(kAwsCodePayload.data(), kAwsCodePayload.size()),
               absl::Cord(std::string(aws_code)));
  return s;
}

// The protocol error code a status carries, if any.
inline std::optional<std::string> AwsCodeOf(const absl::Status& s) {
  auto p = s.GetPayload(absl::string_view(kAwsCodePayload.data(), kAwsCodePayload.size()));
  if (!p) return std::nullopt;
  return std::string(*p);
}

}  // namespace mercato
