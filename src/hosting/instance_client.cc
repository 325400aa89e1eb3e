#include "hosting/instance_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace mercato::hosting {
namespace beast_http = boost::beast::http;
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Waits for `events` on fd until the deadline: OK, DeadlineExceeded, or Unavailable.
absl::Status WaitFor(int fd, short events, SteadyTime deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("timed out");
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(fmt::format("poll: {}", std::strerror(errno)));
    if (r > 0) return absl::OkStatus();
  }
}

absl::Status SendAll(int fd, std::string_view data, SteadyTime deadline) {
  while (!data.empty()) {
    absl::Status s = WaitFor(fd, POLLOUT, deadline);
    if (!s.ok()) return s;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return absl::UnavailableError(fmt::format("send: {}", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

std::string InstanceResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

absl::StatusOr<InstanceResponse> RoundTrip(int fd, std::string_view method, std::string_view target,
                                           const http::Headers& headers, std::string_view body,
                                           SteadyTime deadline, size_t max_body, bool* answered) {
  if (answered != nullptr) *answered = false;
  std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: localhost:8080\r\n", method, target);
  for (const auto& [k, v] : headers) head += fmt::format("{}: {}\r\n", k, v);
  if (method != "GET" || !body.empty()) head += fmt::format("Content-Length: {}\r\n", body.size());
  head += "\r\n";
  // One send for head and body: two small writes on a socket without TCP_NODELAY hold the
  // body back (Nagle) until the container's delayed ACK, about 40 ms per request.
  head.append(body);
  absl::Status s = SendAll(fd, head, deadline);
  if (!s.ok()) return s;

  beast_http::response_parser<beast_http::string_body> parser;
  parser.body_limit(max_body);
  parser.eager(true);
  if (method == "HEAD") parser.skip(true);
  std::string buf;
  char chunk[16384];
  while (!parser.is_done()) {
    if (!buf.empty()) {
      boost::system::error_code ec;
      size_t used = parser.put(boost::asio::buffer(buf.data(), buf.size()), ec);
      buf.erase(0, used);
      if (ec == beast_http::error::body_limit) {
        return absl::ResourceExhaustedError("response body too large");
      }
      if (ec && ec != beast_http::error::need_more) {
        return absl::UnavailableError(fmt::format("bad HTTP response: {}", ec.message()));
      }
      if (parser.is_done()) break;
      if (used > 0 && !buf.empty()) continue;
    }
    absl::Status w = WaitFor(fd, POLLIN, deadline);
    if (!w.ok()) return w;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return absl::UnavailableError(fmt::format("recv: {}", std::strerror(errno)));
    }
    if (n == 0) {
      // Closed before a single byte: Beast would call that a complete (default 200) response.
      if (!parser.got_some()) {
        return absl::UnavailableError("connection closed before a response");
      }
      boost::system::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) {
        return absl::UnavailableError("connection closed before a complete response");
      }
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
    if (answered != nullptr) *answered = true;
  }
  InstanceResponse out;
  auto& msg = parser.get();
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) {
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  out.keep_alive = msg.keep_alive() && buf.empty();
  out.body = std::move(msg.body());
  return out;
}

}  // namespace mercato::hosting
