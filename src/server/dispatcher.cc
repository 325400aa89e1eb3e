#include "server/dispatcher.h"

#include <chrono>

#include "base/json.h"
#include "fmt/format.h"

namespace mercato::server {
namespace {

// The service named by the SigV4 credential scope (header or presigned form), or "".
std::string_view ScopeService(const http::Request& r, std::string& storage) {
  std::string_view cred;
  std::string_view authz = r.Header("authorization");
  if (authz.rfind("AWS4-HMAC-SHA256", 0) == 0) {
    size_t p = authz.find("Credential=");
    if (p == std::string_view::npos) return "";
    cred = authz.substr(p + 11);
    cred = cred.substr(0, cred.find_first_of(", "));
  } else if (r.raw_query.find("X-Amz-Credential=") != std::string::npos) {
    auto v = r.QueryParam("X-Amz-Credential");
    if (!v) return "";
    storage = *v;
    cred = storage;
  } else {
    return "";
  }
  // key/date/region/service/aws4_request
  size_t end = cred.rfind('/');
  if (end == std::string_view::npos) return "";
  size_t start = cred.rfind('/', end - 1);
  if (start == std::string_view::npos) return "";
  return cred.substr(start + 1, end - start - 1);
}

bool IsInvocationPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/endpoints/";
  constexpr std::string_view kSuffix = "/invocations";
  return path.size() > kPrefix.size() + kSuffix.size() && path.rfind(kPrefix, 0) == 0 &&
         path.substr(path.size() - kSuffix.size()) == kSuffix;
}

}  // namespace

std::string_view ApiKindName(ApiKind kind) {
  static constexpr std::string_view kNames[] = {"s3",     "sagemaker", "runtime", "marketplace",
                                                "native", "console",   "unknown"};
  return kNames[static_cast<int>(kind)];
}

ApiKind Classify(const http::Request& r) {
  std::string storage;
  std::string_view service = ScopeService(r, storage);
  std::string_view target = r.Header("x-amz-target");
  if (service == "s3") return ApiKind::kS3;
  if (service == "sagemaker" && target.rfind("SageMaker.", 0) == 0) return ApiKind::kSageMaker;
  if (r.method == "POST" && IsInvocationPath(r.path)) return ApiKind::kRuntime;
  if (!target.empty()) return ApiKind::kMarketplace;
  if (r.path.rfind("/api/v1/", 0) == 0 || r.path == "/api/v1") return ApiKind::kNative;
  if (r.path == "/health" || r.path == "/metrics" || r.path == "/" ||
      r.path.rfind("/console", 0) == 0) {
    return ApiKind::kConsole;
  }
  if (service == "sagemaker") return ApiKind::kSageMaker;
  return ApiKind::kUnknown;
}

Dispatcher::Dispatcher(MetadataStore& store, MetricsRegistry& metrics)
    : store_(store), metrics_(metrics) {}

void Dispatcher::Set(ApiKind kind, ApiHandler handler) {
  handlers_[static_cast<int>(kind)] = std::move(handler);
}

http::Response Dispatcher::Handle(http::Request& request, http::BodyReader& body) {
  auto start = std::chrono::steady_clock::now();
  ApiKind kind = Classify(request);
  http::Response response;
  if (kind == ApiKind::kConsole) {
    response = Console(request);
  } else if (const auto& h = handlers_[static_cast<int>(kind)]) {
    response = h(request, body);
  } else {
    response = Unsupported(kind, request);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string api(ApiKindName(kind));
  metrics_
      .GetCounter("mercato_http_requests_total", "HTTP requests by API and status code.",
                  {{"api", api}, {"code", std::to_string(response.status)}})
      .Add();
  metrics_
      .GetHistogram("mercato_http_request_duration_seconds",
                    "Time from complete request headers to response ready, by API.", {{"api", api}})
      .Observe(seconds);
  return response;
}

http::Response Dispatcher::Console(http::Request& request) {
  if (request.path == "/health") {
    absl::Status s = store_.Ping();
    Json j = {{"status", s.ok() ? "ok" : "unavailable"}};
    if (!s.ok()) j["reason"] = std::string(s.message());
    return http::Response::Json(s.ok() ? 200 : 503, j.dump());
  }
  if (request.path == "/metrics") {
    http::Response r = http::Response::Text(200, metrics_.RenderPrometheus());
    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
    return r;
  }
  if (console_pages_ && request.path.rfind("/console/", 0) == 0) {
    if (auto page = console_pages_(request)) return std::move(*page);
  }
  http::Response r = http::Response::Text(
      200,
      "<!doctype html><html><head><title>Mercato</title></head><body>"
      "<h1>Mercato</h1><p>Self-hosted marketplace and hosting for machine-learning models.</p>"
      "<ul><li><a href=\"/health\">/health</a></li><li><a href=\"/metrics\">/metrics</a></li>"
      "<li>Native API: <code>/api/v1/</code></li></ul></body></html>",
      "text/html; charset=utf-8");
  return r;
}

http::Response Dispatcher::Unsupported(ApiKind kind, const http::Request& request) {
  switch (kind) {
    case ApiKind::kSageMaker:
    case ApiKind::kMarketplace: {
      std::string target(request.Header("x-amz-target"));
      Json j = {{"__type", "UnknownOperationException"},
                {"message", fmt::format("operation '{}' is not supported", target)}};
      http::Response r = http::Response::Json(400, j.dump());
      r.SetHeader("Content-Type", "application/x-amz-json-1.1");
      return r;
    }
    case ApiKind::kRuntime: {
      Json j = {{"message", "endpoint hosting is not available on this server"}};
      http::Response r = http::Response::Json(400, j.dump());
      r.SetHeader("x-amzn-ErrorType", "ValidationError");
      return r;
    }
    default: {
      Json j = {
          {"error", {{"code", "NotFound"}, {"message", "no such resource: " + request.path}}}};
      return http::Response::Json(404, j.dump());
    }
  }
}

}  // namespace mercato::server
