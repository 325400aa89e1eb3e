// Dispatcher: the http::Handler behind mercatod's one port. It classifies each request
// as DESIGN.md §1 orders it — SigV4 service s3 → S3; SigV4 service sagemaker with
// X-Amz-Target SageMaker.* → SageMaker; POST /endpoints/{name}/invocations → Runtime;
// other X-Amz-Target prefixes → marketplace APIs; /api/v1/ → native API; /health,
// /metrics, / and /console/ → console — forwards it, and records per-API request counts
// and latency histograms. Thread-safe; borrows every facade it is given.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/metrics.h"
#include "http/server.h"
#include "store/metadata_store.h"

namespace mercato::server {

enum class ApiKind { kS3, kSageMaker, kRuntime, kMarketplace, kNative, kConsole, kUnknown };
std::string_view ApiKindName(ApiKind kind);

// Pure classification, exposed for tests.
ApiKind Classify(const http::Request& request);

using ApiHandler = std::function<http::Response(http::Request&, http::BodyReader&)>;

class Dispatcher final : public http::Handler {
 public:
  Dispatcher(MetadataStore& store, MetricsRegistry& metrics);
  // Installs the handler for one kind of API; kinds without one answer in their
  // protocol's shape that the operation is not supported.
  void Set(ApiKind kind, ApiHandler handler);
  // Serves the console's pages under /console/ (the page, or nullopt for "not mine").
  void SetConsolePages(std::function<std::optional<http::Response>(const http::Request&)> pages) {
    console_pages_ = std::move(pages);
  }
  http::Response Handle(http::Request& request, http::BodyReader& body) override;

 private:
  std::function<std::optional<http::Response>(const http::Request&)> console_pages_;
  http::Response Console(http::Request& request);
  http::Response Unsupported(ApiKind kind, const http::Request& request);

  MetadataStore& store_;
  MetricsRegistry& metrics_;
  ApiHandler handlers_[7];
};

}  // namespace mercato::server
