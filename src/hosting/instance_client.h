// A minimal HTTP/1.1 client over a connected socket fd (from ContainerRuntime::Dial): sends
// one request and reads one response (parsed by Beast), every step bounded by one deadline,
// so a hung container cannot hold a caller past it. Used for /ping health checks and for
// /invocations over pooled keep-alive connections.
// Stateless functions; the caller owns the fd and serializes its use.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "http/message.h"

namespace mercato::hosting {

using SteadyTime = std::chrono::steady_clock::time_point;

struct InstanceResponse {
  int status = 0;
  http::Headers headers;  // names as received
  std::string body;
  bool keep_alive = false;

  std::string Header(std::string_view name) const;  // case-insensitive; "" if absent
};

// DeadlineExceeded when the deadline passes; Unavailable when the peer closes or resets
// before a complete response; ResourceExhausted when the body exceeds `max_body`.
// `answered` (optional) tells whether any byte of a response arrived.
absl::StatusOr<InstanceResponse> RoundTrip(int fd, std::string_view method, std::string_view target,
                                           const http::Headers& headers, std::string_view body,
                                           SteadyTime deadline, size_t max_body = 64 << 20,
                                           bool* answered = nullptr);

}  // namespace mercato::hosting
