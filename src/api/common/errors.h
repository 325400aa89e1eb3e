// The one place that maps an absl::Status to an HTTP status for Mercato's JSON APIs, and
// renders the native API's error shape {"error": {"code": ..., "message": ...}}.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "http/message.h"

namespace mercato::api {

// HTTP status for a canonical status code (InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists/FailedPrecondition 409,
// ResourceExhausted 429, Unavailable 503, DeadlineExceeded 504, others 500).
int HttpStatusFor(const absl::Status& status);

// The error code a client sees: the status's AWS code if it carries one, else a name
// derived from the canonical code (e.g. "NotFound", "InvalidArgument").
std::string ErrorCodeFor(const absl::Status& status);

// {"error": {"code": ..., "message": ...}} with HttpStatusFor(status).
http::Response NativeError(const absl::Status& status);

}  // namespace mercato::api
