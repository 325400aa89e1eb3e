#include "api/sagemaker/sagemaker_api.h"

#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "fmt/format.h"
#include "hosting/hosting_service.h"

namespace mercato::api::sagemaker {
namespace {

constexpr size_t kMaxRequestBytes = 16 << 20;
constexpr std::string_view kTargetPrefix = "SageMaker.";

int HttpStatusFor(const absl::Status& s, const std::string& code) {
  if (code == "UnrecognizedClientException" || code == "InvalidSignatureException" ||
      code == "MissingAuthenticationTokenException") {
    return 403;
  }
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return 400;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string CodeFor(const absl::Status& s) {
  if (auto code = AwsCodeOf(s)) return *code;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "ValidationException";
    case absl::StatusCode::kNotFound:
      return "ResourceNotFound";
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return "ResourceInUse";
    case absl::StatusCode::kResourceExhausted:
      return "ResourceLimitExceeded";
    case absl::StatusCode::kUnavailable:
      return "ServiceUnavailable";
    default:
      return "InternalFailure";
  }
}

}  // namespace

absl::Status MapAuthError(const absl::Status& s) {
  std::string code = AwsCodeOf(s).value_or("");
  if (code == "InvalidAccessKeyId" || code == "InvalidClientTokenId") {
    return AwsError(s.code(), "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
  }
  if (code == "SignatureDoesNotMatch" || code == "RequestTimeTooSkewed") {
    return AwsError(s.code(), "InvalidSignatureException", std::string(s.message()));
  }
  if (code == "MissingAuthenticationToken") {
    return AwsError(s.code(), "MissingAuthenticationTokenException", std::string(s.message()));
  }
  if (code == "AccessDenied")
    return AwsError(s.code(), "AccessDeniedException", std::string(s.message()));
  return s;
}

http::Response JsonError(const absl::Status& status) {
  std::string code = CodeFor(status);
  Json j = {{"__type", code}, {"message", std::string(status.message())}};
  http::Response r = http::Response::Json(HttpStatusFor(status, code), j.dump());
  r.SetHeader("Content-Type", "application/x-amz-json-1.1");
  r.SetHeader("x-amzn-ErrorType", code);
  return r;
}

void SageMakerApi::AddAction(std::string name, ActionFn fn) {
  actions_[std::move(name)] = std::move(fn);
}

http::Response ServeJsonRequest(
    http::Request& request, http::BodyReader& body, auth::Authenticator& authenticator,
    size_t max_bytes, const std::function<const ActionFn*(std::string_view target)>& find,
    const std::function<http::Response(const absl::Status&, std::string_view target)>&
        action_error) {
  std::string request_id = NewId("");
  auto finish = [&](http::Response r) {
    r.SetHeader("x-amzn-RequestId", request_id);
    return r;
  };
  absl::StatusOr<std::string> payload = body.ReadAll(max_bytes);
  if (!payload.ok()) {
    http::Response r = JsonError(AwsError(
        absl::StatusCode::kInvalidArgument, "SerializationException",
        absl::IsResourceExhausted(payload.status()) ? "Request body is too large"
                                                    : std::string(payload.status().message())));
    r.close_connection = true;
    return finish(std::move(r));
  }
  auto authed = authenticator.Authenticate(request, Sha256Hex(*payload));
  if (!authed.ok()) return finish(JsonError(MapAuthError(authed.status())));
  std::string_view target = request.Header("x-amz-target");
  const ActionFn* action = request.method == "POST" ? find(target) : nullptr;
  if (action == nullptr) {
    return finish(
        JsonError(AwsError(absl::StatusCode::kInvalidArgument, "UnknownOperationException",
                           fmt::format("Operation '{}' is not supported.", target))));
  }
  Json input = Json::object();
  if (!payload->empty()) {
    auto parsed = ParseJson(*payload);
    if (!parsed.ok() || !parsed->is_object()) {
      return finish(JsonError(AwsError(absl::StatusCode::kInvalidArgument, "SerializationException",
                                       "The request body is not a JSON object.")));
    }
    input = std::move(*parsed);
  }
  absl::StatusOr<Json> out = (*action)(authed->principal, input);
  if (!out.ok()) return finish(action_error(out.status(), target));
  http::Response r = http::Response::Json(200, out->dump());
  r.SetHeader("Content-Type", "application/x-amz-json-1.1");
  return finish(std::move(r));
}

http::Response SageMakerApi::Handle(http::Request& request, http::BodyReader& body) {
  return ServeJsonRequest(
      request, body, authenticator_, kMaxRequestBytes,
      [this](std::string_view target) -> const ActionFn* {
        if (target.rfind(kTargetPrefix, 0) != 0) return nullptr;
        auto it = actions_.find(target.substr(kTargetPrefix.size()));
        return it == actions_.end() ? nullptr : &it->second;
      },
      [](const absl::Status& s, std::string_view) { return JsonError(s); });
}

void AddHostingActions(SageMakerApi& api, hosting::HostingService& service) {
  using Method = absl::StatusOr<Json> (hosting::HostingService::*)(std::string_view, const Json&);
  const std::pair<const char*, Method> kActions[] = {
      {"CreateModel", &hosting::HostingService::CreateModel},
      {"DescribeModel", &hosting::HostingService::DescribeModel},
      {"ListModels", &hosting::HostingService::ListModels},
      {"DeleteModel", &hosting::HostingService::DeleteModel},
      {"CreateEndpointConfig", &hosting::HostingService::CreateEndpointConfig},
      {"DescribeEndpointConfig", &hosting::HostingService::DescribeEndpointConfig},
      {"ListEndpointConfigs", &hosting::HostingService::ListEndpointConfigs},
      {"DeleteEndpointConfig", &hosting::HostingService::DeleteEndpointConfig},
      {"CreateEndpoint", &hosting::HostingService::CreateEndpoint},
      {"DescribeEndpoint", &hosting::HostingService::DescribeEndpoint},
      {"ListEndpoints", &hosting::HostingService::ListEndpoints},
      {"DeleteEndpoint", &hosting::HostingService::DeleteEndpoint},
      {"UpdateEndpoint", &hosting::HostingService::UpdateEndpoint},
      {"UpdateEndpointWeightsAndCapacities",
       &hosting::HostingService::UpdateEndpointWeightsAndCapacities},
  };
  for (const auto& [name, method] : kActions) {
    api.AddAction(name, [&service, method](const auth::Principal& p, const Json& in) {
      return (service.*method)(p.account_id, in);
    });
  }
}

}  // namespace mercato::api::sagemaker
