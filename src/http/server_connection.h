// Private to the http library (included only by server.cc): one client connection.
//
// A Connection lives in a shared_ptr held by whichever side currently drives it: a pending
// Asio operation on an io thread (TLS handshake, waiting for request headers, writing a
// 400, lingering close) or the worker thread serving a request. Exactly one side touches
// it at a time, so it needs no lock; only `state_`, `deadline_ns_` and `timed_out_` are
// read by other threads (the timeout sweeper and Shutdown), which may call Abort() to
// shut the socket down and so wake any blocked operation. The socket is closed only in
// the destructor, after the connection has left the server's registry, so Abort() never
// touches a reused descriptor.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "absl/status/status.h"
#include "base/status.h"
#include "fmt/format.h"
#include "http/server.h"
#include "spdlog/spdlog.h"

namespace mercato::http::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

// Set on io and worker threads, so Shutdown() called from a handler does not wait on itself.
extern thread_local bool t_server_thread;
int64_t NowNs();  // steady clock

inline constexpr size_t kStreamChunk = 64 * 1024;
inline constexpr uint64_t kMaxDrainBytes = 1 << 20;
inline constexpr int64_t kLingerNs = 2'000'000'000;
inline constexpr size_t kMaxWriteSome = 1 << 20;
inline constexpr size_t kTlsCoalesceBytes = 16 * 1024;

enum class ConnState { kHandshake, kIdle, kBusy, kLinger, kClosed };

struct ServerConfig {
  int64_t idle_timeout_ns = 0;
  int64_t io_timeout_ns = 0;
  uint32_t max_header_bytes = 64 * 1024;
};

class ConnBase;

// What a connection needs from the server; implemented by ServerImpl.
class ServerCore {
 public:
  explicit ServerCore(Handler& handler) : handler_(handler) {}
  virtual ~ServerCore() = default;
  virtual void Enqueue(std::shared_ptr<ConnBase> conn) = 0;  // headers complete: to a worker
  virtual void RequestDone() = 0;                            // the response is written (or failed)
  virtual bool stopping() const = 0;
  virtual ssl::context* tls() = 0;

  void Register(ConnBase* conn) {
    std::lock_guard lock(conns_mu_);
    conns_.insert(conn);
  }
  void Unregister(ConnBase* conn) {
    std::lock_guard lock(conns_mu_);
    conns_.erase(conn);
  }

  Handler& handler_;
  ServerConfig config_;

 protected:
  std::mutex conns_mu_;
  std::unordered_set<ConnBase*> conns_;
};

class ConnBase : public std::enable_shared_from_this<ConnBase> {
 public:
  ConnBase(ServerCore& core, int fd);
  virtual ~ConnBase();
  virtual void Serve() = 0;  // on a worker thread
  // Any thread: wakes whatever operation is blocked on the socket.
  void Abort() { ::shutdown(fd_, SHUT_RDWR); }

  std::atomic<ConnState> state_{ConnState::kHandshake};
  std::atomic<int64_t> deadline_ns_{0};  // 0: no operation with a deadline in progress
  std::atomic<bool> timed_out_{false};

 protected:
  void Arm(int64_t timeout_ns) {
    deadline_ns_.store(NowNs() + timeout_ns, std::memory_order_relaxed);
  }
  void Disarm() { deadline_ns_.store(0, std::memory_order_relaxed); }

  ServerCore& core_;
  const int fd_;
};

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

inline bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

inline std::string_view Reason(int status) {
  std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return reason.empty() || reason[0] == '<' ? std::string_view("Unknown") : reason;
}

template <class Stream>
class Connection final : public ConnBase, public BodyReader {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Connection(ServerCore& core, tcp::socket socket)
      : ConnBase(core, socket.native_handle()), stream_(MakeStream(core, std::move(socket))) {
    beast::error_code ec;
    tcp::endpoint ep = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    remote_ = ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                                   : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  // Leave the registry before the socket closes (see the file comment).
  ~Connection() override { core_.Unregister(this); }

  // On an io thread, right after accept.
  void Run() {
    if constexpr (kTls) {
      state_.store(ConnState::kHandshake);
      Arm(core_.config_.idle_timeout_ns);
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        self->Disarm();
        if (!ec) self->ReadHeader();
      });
    } else {
      ReadHeader();
    }
  }

  void Serve() override;

  // BodyReader:
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;
  std::optional<uint64_t> content_length() const override {
    return chunked_ ? std::nullopt : content_length_;
  }

 private:
  static Stream MakeStream(ServerCore& core, tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *core.tls());
    } else {
      return socket;
    }
  }
  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }

  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void PrepareRequest();
  void SendError(int status, std::string_view text);
  void Linger();
  void Discard();
  bool Drain();
  absl::Status Fail(const beast::error_code& ec);
  absl::StatusOr<size_t> ReadFixed(char* buf, size_t n);
  absl::StatusOr<size_t> ReadChunked(char* buf, size_t n);
  bool WriteResponse(Response& response, bool& keep);
  bool WriteFixedStream(BodySource& source, uint64_t size);
  bool WriteUnsizedStream(BodySource& source, bool chunked);
  void AppendLength(uint64_t n) {
    fmt::format_to(std::back_inserter(head_), "Content-Length: {}\r\n", n);
  }
  char* ChunkBuffer() {
    if (!chunk_) chunk_ = std::make_unique<char[]>(kStreamChunk);
    return chunk_.get();
  }

  // Writes all of `buffers`, re-arming the io deadline before each write_some so only a
  // write making no progress times out.
  template <class Buffers>
  bool WriteAll(const Buffers& buffers) {
    if constexpr (kTls) {
      // asio's SSL stream writes one buffer per record: coalesce a small gather (a whole
      // small response) so it goes out as one record and one segment.
      size_t total = beast::buffer_bytes(buffers);
      if (total <= kTlsCoalesceBytes && std::distance(asio::buffer_sequence_begin(buffers),
                                                      asio::buffer_sequence_end(buffers)) > 1) {
        tls_scratch_.resize(total);
        asio::buffer_copy(asio::buffer(tls_scratch_), buffers);
        return WriteAllDirect(asio::buffer(tls_scratch_));
      }
    }
    return WriteAllDirect(buffers);
  }
  template <class Buffers>
  bool WriteAllDirect(const Buffers& buffers) {
    beast::error_code ec;
    asio::write(
        stream_, buffers,
        [this](const beast::error_code& error, size_t) -> size_t {
          if (error) return 0;
          Arm(core_.config_.io_timeout_ns);
          return kMaxWriteSome;
        },
        ec);
    Disarm();
    return !ec;
  }

  Stream stream_;
  beast::flat_buffer buffer_;  // reused for every request on this connection
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  Request request_;  // reused, so its strings keep their capacity
  std::string remote_;
  std::string head_;  // the serialized response header
  std::unique_ptr<char[]> chunk_;
  std::string tls_scratch_;

  // The request being served.
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool is_head_ = false;
  bool chunked_ = false;
  std::optional<uint64_t> content_length_;
  uint64_t remaining_ = 0;  // of a Content-Length body
  bool body_done_ = true;
  bool expect_continue_ = false;
  bool sent_continue_ = false;
  absl::Status body_error_;
};

template <class Stream>
void Connection<Stream>::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(core_.config_.max_header_bytes);
  // Handlers stream bodies and enforce their own limits. Not boost::none: Beast 1.74
  // compares the length against the optional and rejects every body when it is empty.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  Arm(core_.config_.idle_timeout_ns);
  state_.store(ConnState::kIdle);
  // Checked after becoming idle: Shutdown() sets stopping before it aborts idle connections.
  if (core_.stopping()) return;
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <class Stream>
void Connection<Stream>::OnHeader(beast::error_code ec) {
  Disarm();
  if (ec) {
    if (ec == bhttp::error::header_limit) return SendError(431, "request headers too large\n");
    if (IsParseError(ec)) return SendError(400, "malformed request\n");
    return;  // closed by the client, timed out, or aborted by Shutdown
  }
  ConnState expected = ConnState::kIdle;
  if (!state_.compare_exchange_strong(expected, ConnState::kBusy)) return;
  core_.Enqueue(shared_from_this());
}

template <class Stream>
void Connection<Stream>::SendError(int status, std::string_view text) {
  state_.store(ConnState::kLinger);
  head_ = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: Mercato\r\nContent-Type: text/plain\r\nContent-Length: "
      "{}\r\nConnection: close\r\n\r\n{}",
      status, Reason(status), text.size(), text);
  Arm(core_.config_.io_timeout_ns);
  asio::async_write(stream_, asio::buffer(head_), [self = Self()](beast::error_code ec, size_t) {
    self->Disarm();
    if (!ec) self->Linger();
  });
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the
// response before the client reads it. So: send FIN, then read and discard for a while.
template <class Stream>
void Connection<Stream>::Linger() {
  state_.store(ConnState::kLinger);
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
  Arm(std::min(kLingerNs, core_.config_.idle_timeout_ns));
  buffer_.clear();
  Discard();
}

template <class Stream>
void Connection<Stream>::Discard() {
  beast::get_lowest_layer(stream_).async_read_some(buffer_.prepare(16 * 1024),
                                                   [self = Self()](beast::error_code ec, size_t) {
                                                     if (!ec) self->Discard();
                                                   });
}

template <class Stream>
void Connection<Stream>::PrepareRequest() {
  auto& msg = parser_->get();
  request_.method.assign(msg.method_string());
  std::string_view target = msg.target();
  request_.target.assign(target);
  size_t q = target.find('?');
  request_.raw_path.assign(target.substr(0, q));
  request_.raw_query.assign(q == std::string_view::npos ? std::string_view()
                                                        : target.substr(q + 1));
  request_.path = PercentDecode(request_.raw_path);
  size_t count = 0;
  for (const auto& field : msg) {
    if (count == request_.headers.size()) request_.headers.emplace_back();
    auto& [name, value] = request_.headers[count++];
    name.assign(field.name_string());
    for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    value.assign(field.value());
  }
  request_.headers.resize(count);
  request_.remote_address.assign(remote_);
  request_.tls = kTls;

  version_ = msg.version();
  keep_alive_ = version_ >= 11 && msg.keep_alive();
  is_head_ = msg.method() == bhttp::verb::head;
  chunked_ = parser_->chunked();
  auto length = parser_->content_length();
  content_length_ = length ? std::optional<uint64_t>(*length) : std::nullopt;
  remaining_ = chunked_ ? 0 : content_length_.value_or(0);
  body_done_ = chunked_ ? parser_->is_done() : remaining_ == 0;
  expect_continue_ =
      version_ >= 11 && !body_done_ && EqualsIgnoreCase(msg[bhttp::field::expect], "100-continue");
  sent_continue_ = false;
  body_error_ = absl::OkStatus();
  timed_out_.store(false);
}

template <class Stream>
void Connection<Stream>::Serve() {
  Response response;
  bool keep = false;
  bool ok = false;
  try {
    PrepareRequest();
    try {
      response = core_.handler_.Handle(request_, *this);
    } catch (...) {
      // Handlers return errors as responses; a throw is a bug, but not a reason to crash.
      spdlog::error("http: handler threw for {} {}", request_.method, request_.target);
      response = Response::Text(500, "internal error\n");
      response.close_connection = true;
    }
    keep = keep_alive_ && !response.close_connection && !core_.stopping() && body_error_.ok();
    if (keep && !body_done_) {
      // A client still waiting for `100 Continue` may never send the body: close instead.
      keep = !(expect_continue_ && !sent_continue_) && Drain();
    }
    ok = WriteResponse(response, keep);
  } catch (const std::exception& e) {
    spdlog::error("http: error serving a request: {}", e.what());
  } catch (...) {
    spdlog::error("http: unknown exception serving a request");
  }
  response = Response();  // release the body source before this connection is reused
  core_.RequestDone();
  if (!ok) return;
  if (keep) return ReadHeader();  // last use of members: another thread may take over
  if (!body_done_ || buffer_.size() > 0) Linger();
}

template <class Stream>
bool Connection<Stream>::Drain() {
  if (!chunked_ && remaining_ > kMaxDrainBytes) return false;
  char* buf = ChunkBuffer();
  uint64_t drained = 0;
  while (!body_done_ && drained <= kMaxDrainBytes) {
    absl::StatusOr<size_t> n = Read(buf, kStreamChunk);
    if (!n.ok()) return false;
    drained += *n;
  }
  return body_done_;
}

template <class Stream>
absl::Status Connection<Stream>::Fail(const beast::error_code& ec) {
  if (timed_out_.load()) {
    body_error_ = absl::DeadlineExceededError("timed out reading the request body");
  } else if (IsParseError(ec)) {
    body_error_ =
        absl::InvalidArgumentError(fmt::format("malformed request body: {}", ec.message()));
  } else {
    body_error_ = absl::UnavailableError(fmt::format("client connection lost: {}", ec.message()));
  }
  return body_error_;
}

template <class Stream>
absl::StatusOr<size_t> Connection<Stream>::Read(char* buf, size_t n) {
  if (!body_error_.ok()) return body_error_;
  if (body_done_ || n == 0) return 0;
  if (expect_continue_ && !sent_continue_) {
    sent_continue_ = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!WriteAll(asio::buffer(kContinue.data(), kContinue.size()))) {
      return Fail(asio::error::broken_pipe);
    }
  }
  return chunked_ ? ReadChunked(buf, n) : ReadFixed(buf, n);
}

// A Content-Length body bypasses the parser: bytes already buffered are copied, the rest
// is read straight into the caller's buffer.
template <class Stream>
absl::StatusOr<size_t> Connection<Stream>::ReadFixed(char* buf, size_t n) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
  size_t got;
  if (buffer_.size() > 0) {
    got = asio::buffer_copy(asio::buffer(buf, want), buffer_.data());
    buffer_.consume(got);
  } else {
    beast::error_code ec;
    Arm(core_.config_.io_timeout_ns);
    got = stream_.read_some(asio::buffer(buf, want), ec);
    Disarm();
    if (ec) return Fail(ec);
  }
  remaining_ -= got;
  body_done_ = remaining_ == 0;
  return got;
}

template <class Stream>
absl::StatusOr<size_t> Connection<Stream>::ReadChunked(char* buf, size_t n) {
  auto& body = parser_->get().body();
  for (;;) {
    body.data = buf;
    body.size = n;
    body.more = true;
    beast::error_code ec;
    Arm(core_.config_.io_timeout_ns);
    bhttp::read_some(stream_, buffer_, *parser_, ec);
    Disarm();
    size_t got = n - body.size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return Fail(ec);
    body_done_ = parser_->is_done();
    if (got > 0 || body_done_) return got;
  }
}

template <class Stream>
bool Connection<Stream>::WriteResponse(Response& response, bool& keep) {
  const int status = response.status;
  head_.clear();
  fmt::format_to(std::back_inserter(head_), "HTTP/1.1 {} {}\r\n", status, Reason(status));
  bool has_server = false;
  std::string_view handler_length;
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "content-length")) {
      handler_length = value;
      continue;
    }
    if (EqualsIgnoreCase(name, "connection")) {
      if (value.find("close") != std::string::npos) keep = false;
      continue;
    }
    if (EqualsIgnoreCase(name, "transfer-encoding")) continue;
    if (EqualsIgnoreCase(name, "server")) has_server = true;
    head_.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_server) head_.append("Server: Mercato\r\n");
  std::optional<uint64_t> stream_size;
  if (response.stream) stream_size = response.stream->size();
  // HTTP/1.0 has no chunked encoding: an unsized body ends when the connection closes.
  if (response.stream && !stream_size && !is_head_ && version_ < 11) keep = false;
  if (!keep) head_.append("Connection: close\r\n");

  if (status < 200 || status == 204 || status == 304) {
    head_.append("\r\n");
    return WriteAll(asio::buffer(head_));
  }
  if (is_head_) {
    if (response.head_content_length) {
      AppendLength(*response.head_content_length);
    } else if (stream_size) {
      AppendLength(*stream_size);
    } else if (!handler_length.empty()) {
      head_.append("Content-Length: ").append(handler_length).append("\r\n");
    } else {
      AppendLength(response.body.size());
    }
    head_.append("\r\n");
    return WriteAll(asio::buffer(head_));
  }
  if (!response.stream) {
    AppendLength(response.body.size());
    head_.append("\r\n");
    return WriteAll(
        std::array<asio::const_buffer, 2>{asio::buffer(head_), asio::buffer(response.body)});
  }
  if (stream_size) {
    AppendLength(*stream_size);
    head_.append("\r\n");
    return WriteFixedStream(*response.stream, *stream_size);
  }
  bool chunked = version_ >= 11;
  head_.append(chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "\r\n");
  return WriteUnsizedStream(*response.stream, chunked);
}

// The header goes out with the first chunk, in one write.
template <class Stream>
bool Connection<Stream>::WriteFixedStream(BodySource& source, uint64_t size) {
  char* buf = ChunkBuffer();
  uint64_t left = size;
  bool head_sent = false;
  do {
    size_t n = 0;
    if (left > 0) {
      absl::StatusOr<size_t> got =
          source.Read(buf, static_cast<size_t>(std::min<uint64_t>(kStreamChunk, left)));
      if (!got.ok() || *got == 0) {
        spdlog::warn("http: response body for {} ended early: {}", request_.target,
                     got.ok() ? std::string("short body") : got.status().ToString());
        return false;
      }
      n = static_cast<size_t>(std::min<uint64_t>({*got, left, kStreamChunk}));
      left -= n;
    }
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head_.data(), head_sent ? 0 : head_.size()), asio::buffer(buf, n)};
    if (!WriteAll(buffers)) return false;
    head_sent = true;
  } while (left > 0);
  return true;
}

template <class Stream>
bool Connection<Stream>::WriteUnsizedStream(BodySource& source, bool chunked) {
  char* buf = ChunkBuffer();
  bool head_sent = false;
  for (;;) {
    absl::StatusOr<size_t> got = source.Read(buf, kStreamChunk);
    if (!got.ok()) {
      spdlog::warn("http: response body for {} failed: {}", request_.target,
                   got.status().ToString());
      return false;
    }
    size_t n = std::min(*got, kStreamChunk);
    char line[24];
    size_t line_len = 0;
    std::string_view tail;
    if (chunked) {
      if (n > 0) line_len = static_cast<size_t>(std::snprintf(line, sizeof(line), "%zx\r\n", n));
      tail = n > 0 ? std::string_view("\r\n") : std::string_view("0\r\n\r\n");
    }
    std::array<asio::const_buffer, 4> buffers{
        asio::buffer(head_.data(), head_sent ? 0 : head_.size()), asio::buffer(line, line_len),
        asio::buffer(buf, n), asio::buffer(tail.data(), tail.size())};
    if (!WriteAll(buffers)) return false;
    head_sent = true;
    if (n == 0) return true;
  }
}

}  // namespace mercato::http::internal
