// A minimal HTTP/1.1 client for webhook deliveries (Boost.Beast): one POST per call over a
// fresh connection to an http:// URL, every step (resolve, connect, write, read) bounded
// by one timeout, and the reply body capped, so a slow or hostile receiver cannot hold the
// dispatcher. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mercato::commerce {

struct WebhookPost {
  std::string url;  // http://host[:port][/path]
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host/Content-*
};

// The HTTP status the receiver answered. InvalidArgument for a malformed URL,
// Unavailable when the host cannot be resolved or reached, DeadlineExceeded on timeout.
absl::StatusOr<int> PostWebhook(const WebhookPost& post, absl::Duration timeout);

}  // namespace mercato::commerce
