#include "api/common/errors.h"

#include "base/errors.h"
#include "base/json.h"

namespace mercato::api {

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string ErrorCodeFor(const absl::Status& status) {
  if (auto code = AwsCodeOf(status)) return *code;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return "InvalidArgument";
    case absl::StatusCode::kUnauthenticated:
      return "Unauthenticated";
    case absl::StatusCode::kPermissionDenied:
      return "AccessDenied";
    case absl::StatusCode::kNotFound:
      return "NotFound";
    case absl::StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return "Conflict";
    case absl::StatusCode::kResourceExhausted:
      return "LimitExceeded";
    case absl::StatusCode::kUnimplemented:
      return "NotImplemented";
    case absl::StatusCode::kUnavailable:
      return "ServiceUnavailable";
    case absl::StatusCode::kDeadlineExceeded:
      return "Timeout";
    default:
      return "InternalError";
  }
}

http::Response NativeError(const absl::Status& status) {
  Json body = {
      {"error", {{"code", ErrorCodeFor(status)}, {"message", std::string(status.message())}}}};
  return http::Response::Json(HttpStatusFor(status), body.dump());
}

}  // namespace mercato::api
