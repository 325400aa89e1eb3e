#include "cli/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <vector>

#include "base/errors.h"
#include "fmt/format.h"

namespace mercato::cli {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

absl::StatusOr<Client> Client::Create(std::string_view endpoint, std::string token) {
  Client c;
  std::string_view rest = endpoint;
  if (rest.rfind("https://", 0) == 0) {
    c.tls_ = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(
        fmt::format("endpoint must start with http:// or https://, got '{}'", endpoint));
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    c.host_ = std::string(rest);
    c.port_ = c.tls_ ? "443" : "80";
  } else {
    c.host_ = std::string(rest.substr(0, colon));
    c.port_ = std::string(rest.substr(colon + 1));
  }
  if (c.host_.empty()) return absl::InvalidArgumentError("endpoint has no host");
  c.endpoint_ = fmt::format("{}://{}:{}", c.tls_ ? "https" : "http", c.host_, c.port_);
  c.token_ = std::move(token);
  return c;
}

namespace {

// A reply and its headers, read from a parser whose body is in memory.
template <typename Body>
HttpResult ToResult(bhttp::response<Body>& res, std::string body) {
  HttpResult out{static_cast<int>(res.result_int()),
                 std::move(body),
                 std::string(res[bhttp::field::content_type]),
                 {}};
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

template <typename Stream, typename Request>
HttpResult Exchange(Stream& stream, Request& req) {
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ull << 30);
  bhttp::read(stream, buffer, parser);
  auto& res = parser.get();
  std::string body = std::move(res.body());
  return ToResult(res, std::move(body));
}

// Reads the reply header, then a 2xx body into `out_path` as it arrives, any other body
// into memory.
template <typename Stream>
HttpResult ExchangeToFile(Stream& stream, bhttp::request<bhttp::empty_body>& req,
                          const std::string& out_path) {
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  // Not boost::none: Boost 1.74 compares the length with the optional, so none means 0.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  bhttp::read_header(stream, buffer, parser);
  int status = static_cast<int>(parser.get().result_int());
  bool to_file = status >= 200 && status < 300;
  std::ofstream out;
  if (to_file) {
    out.open(out_path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot create " + out_path);
  }
  std::string error_body;
  std::vector<char> chunk(256 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::error_code ec;
    bhttp::read(stream, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) throw beast::system_error(ec);
    size_t n = chunk.size() - parser.get().body().size;
    if (to_file) {
      out.write(chunk.data(), static_cast<std::streamsize>(n));
    } else if (error_body.size() < (1 << 20)) {
      error_body.append(chunk.data(), n);
    }
  }
  if (to_file) {
    out.close();
    if (!out) throw std::runtime_error("cannot write " + out_path);
  }
  return ToResult(parser.get(), std::move(error_body));
}

}  // namespace

template <typename Fn>
absl::StatusOr<HttpResult> Client::WithStream(const Fn& fn) const {
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host_, port_);
    if (tls_) {
      net::ssl::context ctx(net::ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(getenv("MERCATO_INSECURE_TLS") ? net::ssl::verify_none
                                                         : net::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
      SSL_set_tlsext_host_name(stream.native_handle(), host_.c_str());
      beast::get_lowest_layer(stream).connect(endpoints);
      stream.handshake(net::ssl::stream_base::client);
      return fn(stream);
    }
    beast::tcp_stream stream(ioc);
    stream.connect(endpoints);
    return fn(stream);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        fmt::format("cannot reach mercatod at {}: {}", endpoint_, e.what()));
  }
}

absl::StatusOr<HttpResult> Client::Send(std::string_view method, std::string_view target,
                                        std::string_view body,
                                        std::string_view content_type) const {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!body.empty()) headers.emplace_back("Content-Type", std::string(content_type));
  return SendRaw(method, target, headers, body);
}

absl::StatusOr<HttpResult> Client::SendRaw(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) const {
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), std::string(target), 11);
  req.set(bhttp::field::host, host_ + ":" + port_);
  req.set(bhttp::field::user_agent, "mercato-cli");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  req.prepare_payload();
  return WithStream([&](auto& stream) { return Exchange(stream, req); });
}

absl::StatusOr<HttpResult> Client::SendFile(std::string_view method, std::string_view target,
                                            const std::string& path,
                                            std::string_view content_type) const {
  bhttp::request<bhttp::file_body> req(bhttp::string_to_verb(method), std::string(target), 11);
  beast::error_code ec;
  req.body().open(path.c_str(), beast::file_mode::scan, ec);
  if (ec) return absl::InvalidArgumentError(fmt::format("cannot read {}: {}", path, ec.message()));
  req.set(bhttp::field::host, host_ + ":" + port_);
  req.set(bhttp::field::user_agent, "mercato-cli");
  req.set(bhttp::field::content_type, content_type);
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  req.prepare_payload();
  return WithStream([&](auto& stream) { return Exchange(stream, req); });
}

absl::Status Client::Download(std::string_view target, const std::string& out_path) const {
  bhttp::request<bhttp::empty_body> req(bhttp::verb::get, std::string(target), 11);
  req.set(bhttp::field::host, host_ + ":" + port_);
  req.set(bhttp::field::user_agent, "mercato-cli");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  auto res = WithStream([&](auto& stream) { return ExchangeToFile(stream, req, out_path); });
  if (!res.ok()) {
    std::remove(out_path.c_str());
    return res.status();
  }
  return StatusFromReply(*res);
}

absl::Status StatusFromReply(const HttpResult& res) {
  if (res.status >= 200 && res.status < 300) return absl::OkStatus();
  Json j = Json::parse(res.body, nullptr, false);
  std::string code = "HTTP" + std::to_string(res.status);
  std::string message = res.body;
  if (!j.is_discarded() && j.contains("error") && j["error"].is_object()) {
    code = j["error"].value("code", code);
    message = j["error"].value("message", message);
  }
  absl::StatusCode sc = res.status == 404   ? absl::StatusCode::kNotFound
                        : res.status == 401 ? absl::StatusCode::kUnauthenticated
                        : res.status == 403 ? absl::StatusCode::kPermissionDenied
                        : res.status == 409 ? absl::StatusCode::kAlreadyExists
                        : res.status < 500  ? absl::StatusCode::kInvalidArgument
                                            : absl::StatusCode::kInternal;
  return AwsError(sc, code, message);
}

namespace {

absl::StatusOr<Json> DecodeJsonReply(const absl::StatusOr<HttpResult>& res) {
  if (!res.ok()) return res.status();
  absl::Status s = StatusFromReply(*res);
  if (!s.ok()) return s;
  if (res->body.empty()) return Json::object();
  Json j = Json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return absl::InternalError("server sent a reply that is not JSON");
  return j;
}

}  // namespace

absl::StatusOr<Json> Client::Call(std::string_view method, std::string_view target,
                                  const Json& body) const {
  std::string payload = body.is_null() ? "" : body.dump();
  return DecodeJsonReply(Send(method, target, payload));
}

absl::StatusOr<Json> Client::CallWithFile(std::string_view method, std::string_view target,
                                          const std::string& path,
                                          std::string_view content_type) const {
  return DecodeJsonReply(SendFile(method, target, path, content_type));
}

}  // namespace mercato::cli
