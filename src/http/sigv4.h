// AWS Signature Version 4: parsing, verification and signing, as S3, SageMaker and the
// native API (service "mercato") use it.
//
// Supported forms: the Authorization header (`AWS4-HMAC-SHA256 Credential=...,
// SignedHeaders=..., Signature=...`) and presigned query strings (`X-Amz-Algorithm`,
// `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
// `X-Amz-Signature`). Payload hashes: a hex SHA-256, `UNSIGNED-PAYLOAD`, and the streaming
// forms `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `STREAMING-UNSIGNED-PAYLOAD-TRAILER` and
// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` (decoded by AwsChunkedReader).
//
// Errors are statuses carrying the AWS code (base/errors.h), named as S3 names them:
// SignatureDoesNotMatch, InvalidAccessKeyId (raised by the caller that looks keys up),
// RequestTimeTooSkewed, AccessDenied (expired presigned URL), AuthorizationHeaderMalformed,
// AuthorizationQueryParametersError, XAmzContentSHA256Mismatch, IncompleteBody,
// InvalidRequest. Other protocols translate these names in api/.
// All functions are thread-safe; SigningKeyCache is internally synchronized.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/message.h"

namespace mercato::http {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

struct SigV4Auth {
  std::string access_key_id;
  std::string scope_date;  // yyyymmdd from the credential scope
  std::string region;
  std::string service;                      // "s3", "sagemaker", "mercato", ...
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // hex
  std::string amz_date;                     // X-Amz-Date (header or query), yyyymmddThhmmssZ
  bool presigned = false;
  int64_t expires_seconds = 0;  // presigned only
  // x-amz-content-sha256 as sent (header form), or UNSIGNED-PAYLOAD for presigned
  // requests without it; empty when the client sent none (SageMaker JSON calls).
  std::string content_sha256;
  // x-amz-trailer as sent, lower-cased (e.g. "x-amz-checksum-crc32"); empty if absent.
  // AwsChunkedReader hashes only the checksums announced here.
  std::string amz_trailer;
};

// True if the request carries SigV4 (header or query form) at all.
bool HasSigV4(const Request& request);

// Parses the SigV4 parts of a request. Malformed → AuthorizationHeaderMalformed /
// AuthorizationQueryParametersError (400).
absl::StatusOr<SigV4Auth> ParseSigV4(const Request& request);

// Derived signing keys (per secret, date, region, service) are cached here.
class SigningKeyCache {
 public:
  SigningKeyCache();
  ~SigningKeyCache();
  std::string Get(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Verifies the signature of `request` with `secret`. `payload_hash` is what goes into the
// canonical request: the hex SHA-256 of the body, or auth.content_sha256 when that is a
// literal like UNSIGNED-PAYLOAD or a streaming marker. Checks the 15-minute clock skew
// (header form) or the expiry (presigned form) against `now`.
absl::Status VerifySigV4(const Request& request, const SigV4Auth& auth, std::string_view secret,
                         std::string_view payload_hash, absl::Time now,
                         SigningKeyCache* cache = nullptr);

// Building blocks, exposed for tests and for clients that sign (CLI, internal callers).
std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash, bool presigned, bool s3_path_rules);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service);

// Signs a request in place (adds x-amz-date, x-amz-content-sha256 when `service` is s3,
// and Authorization). `host` must already be a header.
void SignRequest(Request& request, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, std::string_view payload_hash,
                 absl::Time now);

// Decodes an `aws-chunked` body (Content-Encoding: aws-chunked) into the plain payload,
// verifying each chunk signature (signed forms, chained from the seed signature) and the
// trailing checksum headers. After Read() returned 0, trailers() holds the trailer
// headers (lower-case names), e.g. x-amz-checksum-crc32.
class AwsChunkedReader final : public BodyReader {
 public:
  // `signing_key` and `seed_signature` are used only for the signed forms.
  AwsChunkedReader(BodyReader& inner, const SigV4Auth& auth, std::string signing_key,
                   std::optional<uint64_t> decoded_length);
  ~AwsChunkedReader() override;
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;
  std::optional<uint64_t> content_length() const override;
  const Headers& trailers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mercato::http
