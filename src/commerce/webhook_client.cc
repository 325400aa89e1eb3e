#include "commerce/webhook_client.h"

#include <chrono>
#include <optional>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

struct Target {
  std::string host;
  std::string port = "80";
  std::string path = "/";
  std::string host_header;
};

absl::StatusOr<Target> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError(fmt::format("not an http:// URL: {}", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  Target t;
  t.host_header = std::string(authority);
  if (slash != std::string_view::npos) {
    t.path = std::string(rest.substr(slash));
    if (t.path.front() == '?') t.path = "/" + t.path;
  }
  if (size_t hash = t.path.find('#'); hash != std::string::npos) t.path.resize(hash);
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("bad IPv6 host");
    t.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      t.port = std::string(authority.substr(close + 2));
    }
  } else {
    size_t colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) t.port = std::string(authority.substr(colon + 1));
  }
  if (t.host.empty() || t.port.empty()) {
    return absl::InvalidArgumentError(fmt::format("no host or port in {}", url));
  }
  return t;
}

}  // namespace

absl::StatusOr<int> PostWebhook(const WebhookPost& post, absl::Duration timeout) {
  auto parsed = ParseUrl(post.url);
  if (!parsed.ok()) return parsed.status();
  const Target& t = *parsed;
  auto limit = std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));

  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  asio::ip::tcp::resolver resolver(ioc);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.path, 11};
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "mercato-webhook/1");
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : post.headers) req.set(name, value);
  req.body() = post.body;
  req.prepare_payload();

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024);
  beast::error_code failure;
  const char* stage = "resolve";

  // One chain of async steps so the stream's deadline bounds each of them.
  stream.expires_after(limit);
  resolver.async_resolve(t.host, t.port, [&](beast::error_code ec, auto results) {
    if (ec) return void(failure = ec);
    stage = "connect";
    stream.async_connect(results, [&](beast::error_code ec, const auto&) {
      if (ec) return void(failure = ec);
      stage = "write";
      stream.expires_after(limit);
      bhttp::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec) return void(failure = ec);
        stage = "read";
        stream.expires_after(limit);
        bhttp::async_read(stream, buffer, parser,
                          [&](beast::error_code ec, size_t) { failure = ec; });
      });
    });
  });
  // The resolver is not covered by the stream's timer: bound the whole run as well.
  ioc.run_for(limit * 2);
  if (!ioc.stopped()) {
    resolver.cancel();
    beast::error_code ignored;
    stream.socket().close(ignored);
    ioc.restart();  // let the cancelled handlers run before the locals they use go away
    ioc.run_for(std::chrono::milliseconds(200));
    return absl::DeadlineExceededError(fmt::format("webhook {}: timed out ({})", post.url, stage));
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  if (failure == beast::error::timeout) {
    return absl::DeadlineExceededError(fmt::format("webhook {}: timed out ({})", post.url, stage));
  }
  if (failure) {
    return absl::UnavailableError(
        fmt::format("webhook {}: {} failed: {}", post.url, stage, failure.message()));
  }
  return static_cast<int>(parser.get().result_int());
}

}  // namespace mercato::commerce
