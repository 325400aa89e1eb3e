#include "api/sagemaker/runtime_api.h"

#include "api/sagemaker/sagemaker_api.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "base/json.h"
#include "fmt/format.h"

namespace mercato::api::sagemaker {
namespace {

// Hard cap on what is read (and discarded) from an oversized body, so the client still
// gets the ValidationError instead of a reset connection.
constexpr uint64_t kDrainLimit = 64 << 20;

http::Response RuntimeError(int status, const std::string& code, const std::string& message) {
  Json j = {{"message", message}};
  http::Response r = http::Response::Json(status, j.dump());
  r.SetHeader("x-amzn-ErrorType", code);
  return r;
}

http::Response RuntimeError(const absl::Status& s) {
  std::string code = AwsCodeOf(s).value_or("");
  int status = 500;
  if (code == "ValidationError") {
    status = 400;
  } else if (code == "ModelError") {
    status = 424;
  } else if (code == "ServiceUnavailable") {
    status = 503;
  } else if (code == "ModelNotReadyException") {
    status = 429;
  } else if (code == "UnrecognizedClientException" || code == "InvalidSignatureException" ||
             code == "MissingAuthenticationTokenException") {
    status = 403;
  } else if (code.empty()) {
    code = "InternalFailure";
  } else {
    status = 400;
  }
  return RuntimeError(status, code, std::string(s.message()));
}

// "/endpoints/{name}/invocations" → name.
std::string EndpointName(const http::Request& r) {
  constexpr std::string_view kPrefix = "/endpoints/";
  constexpr std::string_view kSuffix = "/invocations";
  std::string_view p = r.path;
  if (p.size() <= kPrefix.size() + kSuffix.size()) return "";
  return std::string(p.substr(kPrefix.size(), p.size() - kPrefix.size() - kSuffix.size()));
}

}  // namespace

http::Response RuntimeApi::Handle(http::Request& request, http::BodyReader& body) {
  std::string request_id = NewId("");
  auto finish = [&](http::Response r) {
    r.SetHeader("x-amzn-RequestId", request_id);
    return r;
  };
  // Read (and hash) the whole body, keeping at most the limit. With a Content-Length within
  // the limit the bytes land in the payload directly: the body is written once, then moved
  // down to the container connection without another copy.
  auto hasher = Hasher::Create("sha256");
  std::string payload;
  size_t filled = 0;  // bytes of `payload` holding the body when it was sized up front
  bool sized = false;
  if (auto length = body.content_length(); length && *length <= max_body_bytes_) {
    payload.resize(*length);
    sized = true;
  }
  uint64_t total = 0;
  std::string buf;
  while (true) {
    bool direct = filled < payload.size();
    if (!direct && buf.empty()) buf.resize(1 << 16);
    char* dst = direct ? payload.data() + filled : buf.data();
    auto n = body.Read(dst, direct ? payload.size() - filled : buf.size());
    if (!n.ok()) {
      http::Response r = RuntimeError(400, "ValidationError", "Could not read the request body");
      r.close_connection = true;
      return finish(std::move(r));
    }
    if (*n == 0) break;
    total += *n;
    hasher->Update(std::string_view(dst, *n));
    if (direct) {
      filled += *n;
    } else if (payload.size() < max_body_bytes_ + 1) {
      payload.append(buf.data(), std::min<size_t>(*n, max_body_bytes_ + 1 - payload.size()));
    }
    if (total > kDrainLimit) {
      http::Response r = RuntimeError(400, "ValidationError", "Request body is too large");
      r.close_connection = true;
      return finish(std::move(r));
    }
  }
  if (sized && filled < payload.size()) payload.resize(filled);  // shorter than announced
  auto authed = authenticator_.Authenticate(request, HexEncode(hasher->Final()));
  if (!authed.ok()) return finish(RuntimeError(MapAuthError(authed.status())));
  if (total > max_body_bytes_) {
    return finish(RuntimeError(
        400, "ValidationError",
        fmt::format("Request payload of {} bytes exceeds the maximum of {} bytes (6 MB) for "
                    "real-time inference.",
                    total, max_body_bytes_)));
  }
  std::string name = EndpointName(request);
  const std::string& account = authed->principal.account_id;
  if (!IsValidResourceName(name)) {
    return finish(RuntimeError(400, "ValidationError",
                               fmt::format("Endpoint {} of account {} not found.", name, account)));
  }
  hosting::InvokeRequest in;
  in.content_type = std::string(request.Header("content-type"));
  in.accept = std::string(request.Header("accept"));
  in.custom_attributes = std::string(request.Header("x-amzn-sagemaker-custom-attributes"));
  in.target_variant = std::string(request.Header("x-amzn-sagemaker-target-variant"));
  in.body = std::move(payload);
  auto out = router_.Invoke(account, name, in);
  if (!out.ok()) return finish(RuntimeError(out.status()));
  if (out->model_error) {
    bool client = out->status < 500;
    std::string original = out->body.substr(0, 4096);
    Json j = {
        {"ErrorCode", client ? "CLIENT_ERROR_FROM_MODEL" : "SERVER_ERROR_FROM_MODEL"},
        {"LogStreamArn", fmt::format("arn:aws:logs:{}:{}:log-group:/aws/sagemaker/Endpoints/{}",
                                     region_, account, name)},
        {"message", fmt::format("Received {} error ({}) from primary with message \"{}\". "
                                "See the endpoint's logs for more information.",
                                client ? "client" : "server", out->status, original)},
        {"OriginalMessage", original},
        {"OriginalStatusCode", out->status}};
    http::Response r = http::Response::Json(424, j.dump());
    r.SetHeader("x-amzn-ErrorType", "ModelError");
    return finish(std::move(r));
  }
  http::Response r;
  r.status = 200;
  r.body = std::move(out->body);
  r.SetHeader("Content-Type",
              out->content_type.empty() ? "application/octet-stream" : out->content_type);
  r.SetHeader("x-Amzn-Invoked-Production-Variant", out->variant);
  if (!out->custom_attributes.empty()) {
    r.SetHeader("X-Amzn-SageMaker-Custom-Attributes", out->custom_attributes);
  }
  return finish(std::move(r));
}

}  // namespace mercato::api::sagemaker
