// One HTTP/1.1 exchange with a server inside an instance, over a socket the runtime
// connected inside the instance's network namespace (ContainerRuntime::Dial). Used to
// forward `mercato image run --port-forward` requests to the container's port 8080.
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/message.h"

namespace mercato::jobs {

struct InstanceHttpRequest {
  std::string method;
  std::string target;     // origin-form, e.g. "/invocations?x=1"
  http::Headers headers;  // forwarded as given (Host and Content-Length are set here)
  std::string body;
};

// Sends `request` on `fd` (taken over and closed) and returns the container's reply with
// its headers minus hop-by-hop ones. Unavailable if the connection fails or the reply is
// malformed, DeadlineExceeded when writing or reading takes longer than `timeout`,
// ResourceExhausted for a reply body above `max_body_bytes`.
absl::StatusOr<http::Response> ExchangeOverFd(int fd, const InstanceHttpRequest& request,
                                              absl::Duration timeout, uint64_t max_body_bytes);

}  // namespace mercato::jobs
