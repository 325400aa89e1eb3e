// S3's error catalogue: one table from code to HTTP status, and the <Error> document.
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/s3/s3_internal.h"
#include "base/errors.h"
#include "spdlog/spdlog.h"

namespace mercato::api::s3 {
namespace {

// HTTP status of each S3 error code Mercato produces (or receives from the authenticator).
int HttpStatusOfCode(std::string_view code) {
  static const std::unordered_map<std::string_view, int> kStatus = {
      {"AccessDenied", 403},
      {"AuthorizationHeaderMalformed", 400},
      {"AuthorizationQueryParametersError", 400},
      {"BadDigest", 400},
      {"BucketAlreadyExists", 409},
      {"BucketAlreadyOwnedByYou", 409},
      {"BucketNotEmpty", 409},
      {"EntityTooLarge", 400},
      {"EntityTooSmall", 400},
      {"IllegalLocationConstraintException", 400},
      {"IncompleteBody", 400},
      {"InternalError", 500},
      {"InvalidAccessKeyId", 403},
      {"InvalidArgument", 400},
      {"InvalidBucketName", 400},
      {"InvalidDigest", 400},
      {"InvalidPart", 400},
      {"InvalidPartOrder", 400},
      {"InvalidRange", 416},
      {"InvalidRequest", 400},
      {"InvalidToken", 400},
      {"KeyTooLongError", 400},
      {"MalformedTrailerError", 400},
      {"MalformedXML", 400},
      {"MaxMessageLengthExceeded", 400},
      {"MethodNotAllowed", 405},
      {"MissingAuthenticationToken", 403},
      {"MissingContentLength", 411},
      {"MissingSecurityHeader", 400},
      {"NoSuchBucket", 404},
      {"NoSuchKey", 404},
      {"NoSuchUpload", 404},
      {"NotImplemented", 501},
      {"NotModified", 304},
      {"PreconditionFailed", 412},
      {"RequestTimeTooSkewed", 403},
      {"RequestTimeout", 400},
      {"ServiceUnavailable", 503},
      {"SignatureDoesNotMatch", 403},
      {"SlowDown", 503},
      {"XAmzContentSHA256Mismatch", 400},
  };
  auto it = kStatus.find(code);
  return it == kStatus.end() ? 0 : it->second;
}

}  // namespace

absl::Status S3Error(std::string_view code, std::string_view message) {
  // The canonical code only matters to callers that log; the S3 code decides the wire.
  absl::StatusCode canonical = absl::StatusCode::kInvalidArgument;
  int http = HttpStatusOfCode(code);
  if (http == 404) canonical = absl::StatusCode::kNotFound;
  if (http == 403) canonical = absl::StatusCode::kPermissionDenied;
  if (http == 409) canonical = absl::StatusCode::kFailedPrecondition;
  if (http == 412 || http == 304) canonical = absl::StatusCode::kFailedPrecondition;
  if (http == 501) canonical = absl::StatusCode::kUnimplemented;
  if (http >= 500 && http != 501) canonical = absl::StatusCode::kInternal;
  return AwsError(canonical, code, message);
}

ErrorInfo S3ErrorFor(const absl::Status& status) {
  if (auto code = AwsCodeOf(status)) {
    // S3 names a missing signature AccessDenied.
    if (*code == "MissingAuthenticationToken") return {403, "AccessDenied"};
    if (int http = HttpStatusOfCode(*code)) return {http, *code};
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return {400, "InvalidArgument"};
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return {403, "AccessDenied"};
    case absl::StatusCode::kNotFound:
      return {404, "NoSuchKey"};
    case absl::StatusCode::kResourceExhausted:
      return {400, "MaxMessageLengthExceeded"};
    case absl::StatusCode::kUnimplemented:
      return {501, "NotImplemented"};
    case absl::StatusCode::kUnavailable:
      return {503, "ServiceUnavailable"};
    case absl::StatusCode::kDeadlineExceeded:
      return {400, "RequestTimeout"};
    default:
      return {500, "InternalError"};
  }
}

http::Response ErrorResponse(const absl::Status& status, std::string_view resource,
                             std::string_view request_id, bool head) {
  ErrorInfo info = S3ErrorFor(status);
  if (info.http_status == 500 || info.http_status == 503) {
    spdlog::error("s3: {} on {}: {}", info.code, resource, status.ToString());
  }
  http::Response r;
  r.status = info.http_status;
  r.SetHeader("x-amz-request-id", std::string(request_id));
  if (head || info.http_status == 304) {
    // HEAD errors and 304 carry no body; Content-Length: 0.
    r.head_content_length = 0;
    return r;
  }
  pugi::xml_document doc;
  pugi::xml_node e = doc.append_child("Error");
  AddText(e, "Code", info.code);
  std::string message(status.message());
  if (info.code == "InternalError") message = "We encountered an internal error. Please try again.";
  AddText(e, "Message", message);
  AddText(e, "Resource", resource);
  AddText(e, "RequestId", request_id);
  http::Response xml = XmlResponse(doc, info.http_status);
  r.body = std::move(xml.body);
  for (auto& h : xml.headers) r.headers.push_back(std::move(h));
  return r;
}

}  // namespace mercato::api::s3
