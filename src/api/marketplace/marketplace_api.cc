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
  return sagemaker::ServeJsonRequest(
      request, body, authenticator_, kMaxRequestBytes,
      [this](std::string_view target) -> const ActionFn* {
        auto it = actions_.find(target);
        return it == actions_.end() ? nullptr : &it->second;
      },
      [this](const absl::Status& s, std::string_view target) {
        // An action's failure is the service's modeled exception, when it has one.
        auto service = services_.find(target.substr(0, target.find('.')));
        std::string code =
            service != services_.end() ? service->second : AwsCodeOf(s).value_or("InternalFailure");
        return Error(StatusFor(s), code, std::string(s.message()));
      });
}

}  // namespace mercato::api::marketplace
