#include "jobs/instance_http.h"

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>

#include "fmt/format.h"

namespace mercato::jobs {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

bool IsHopByHop(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "connection" || lower == "keep-alive" || lower == "transfer-encoding" ||
         lower == "content-length" || lower == "upgrade" || lower == "te" || lower == "trailer" ||
         lower == "proxy-connection" || lower == "host";
}

}  // namespace

absl::StatusOr<http::Response> ExchangeOverFd(int fd, const InstanceHttpRequest& request,
                                              absl::Duration timeout, uint64_t max_body_bytes) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  try {
    stream.socket().assign(net::ip::tcp::v4(), fd);
  } catch (const std::exception& e) {
    ::close(fd);
    return absl::InternalError(fmt::format("cannot use instance socket: {}", e.what()));
  }
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(request.method), request.target, 11);
  if (req.method() == bhttp::verb::unknown) req.method_string(request.method);
  for (const auto& [name, value] : request.headers) {
    if (!IsHopByHop(name)) req.set(name, value);
  }
  req.set(bhttp::field::host, "localhost:8080");
  req.set(bhttp::field::connection, "close");
  req.body() = request.body;
  req.prepare_payload();

  // Async operations only for their deadline (tcp_stream::expires_after); run inline.
  auto deadline = std::chrono::microseconds(absl::ToInt64Microseconds(timeout));
  beast::error_code ec;
  stream.expires_after(deadline);
  bhttp::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  ioc.run();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body_bytes);
  if (!ec) {
    ioc.restart();
    stream.expires_after(deadline);
    bhttp::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    ioc.run();
  }
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError("the container did not answer in time");
  }
  if (ec == bhttp::error::body_limit) {
    return absl::ResourceExhaustedError(
        fmt::format("the container's reply exceeds {} bytes", max_body_bytes));
  }
  if (ec) {
    return absl::UnavailableError(
        fmt::format("exchange with the container failed: {}", ec.message()));
  }
  auto& res = parser.get();
  http::Response out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    if (!IsHopByHop(field.name_string())) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
  }
  out.body = std::move(res.body());
  return out;
}

}  // namespace mercato::jobs
