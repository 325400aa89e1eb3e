#include "api/marketplace/marketplace_api.h"

#include "api/sagemaker/sagemaker_api.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "fmt/format.h"

namespace mercato::api::marketplace {
namespace {

constexpr size_t kMaxRequestBytes = 1 << 20;

http::Response Error(int status, const std::string& code, const std::string& message) {
  Json j = {{"__type", code}, {"message", message}};
  http::Response r = http::Response::Json(status, j.dump());
  r.SetHeader("Content-Type", "application/x-amz-json-1.1");
  r.SetHeader("x-amzn-ErrorType", code);
  return r;
}

int StatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

void MarketplaceApi::AddService(std::string target_prefix, std::string error_code) {
  services_[std::move(target_prefix)] = std::move(error_code);
}

void MarketplaceApi::AddAction(std::string target, ActionFn fn) {
  actions_[std::move(target)] = std::move(fn);
}

http::Response MarketplaceApi::Handle(http::Request& request, http::BodyReader& body) {
  std::string request_id = NewId("");
  auto finish = [&](http::Response r) {
    r.SetHeader("x-amzn-RequestId", request_id);
    return r;
  };
  absl::StatusOr<std::string> payload = body.ReadAll(kMaxRequestBytes);
  if (!payload.ok()) {
    http::Response r = Error(400, "SerializationException",
                             absl::IsResourceExhausted(payload.status())
                                 ? "Request body is too large"
                                 : std::string(payload.status().message()));
    r.close_connection = true;
    return finish(std::move(r));
  }
  auto authed = authenticator_.Authenticate(request, Sha256Hex(*payload));
  if (!authed.ok()) {
    return finish(sagemaker::JsonError(sagemaker::MapAuthError(authed.status())));
  }
  std::string target(request.Header("x-amz-target"));
  auto it = actions_.find(target);
  if (request.method != "POST" || it == actions_.end()) {
    return finish(Error(400, "UnknownOperationException",
                        fmt::format("Operation '{}' is not supported.", target)));
  }
  Json input = Json::object();
  if (!payload->empty()) {
    auto parsed = ParseJson(*payload);
    if (!parsed.ok() || !parsed->is_object()) {
      return finish(Error(400, "SerializationException", "The request body is not a JSON object."));
    }
    input = std::move(*parsed);
  }
  absl::StatusOr<Json> out = it->second(authed->principal, input);
  if (!out.ok()) {
    std::string prefix = target.substr(0, target.find('.'));
    auto service = services_.find(prefix);
    std::string code = service != services_.end()
                           ? service->second
                           : AwsCodeOf(out.status()).value_or("InternalFailure");
    return finish(Error(StatusFor(out.status()), code, std::string(out.status().message())));
  }
  http::Response r = http::Response::Json(200, out->dump());
  r.SetHeader("Content-Type", "application/x-amz-json-1.1");
  return finish(std::move(r));
}

}  // namespace mercato::api::marketplace
