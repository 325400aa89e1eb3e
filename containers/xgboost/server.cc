#include "server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "fmt/format.h"

namespace mercato::xgboost {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

volatile std::sig_atomic_t g_stop = 0;
// Self-pipe written by RequestStop() and never drained, so every poll() wakes at once.
int g_stop_pipe[2] = {-1, -1};
constexpr int kPollMillis = 200;
// A connection that sent part of a request gets this long to finish it at shutdown.
constexpr auto kShutdownGrace = std::chrono::seconds(10);

bool Stopping() { return g_stop != 0; }

// Waits up to kPollMillis for `fd` to become readable (or a stop request); true when
// `fd` is readable.
bool WaitReadable(int fd) {
  pollfd p[2] = {{fd, POLLIN, 0}, {g_stop_pipe[0], POLLIN, 0}};
  return ::poll(p, g_stop_pipe[0] >= 0 ? 2 : 1, kPollMillis) > 0 && (p[0].revents != 0);
}

http::response<http::string_body> MakeResponse(http::status status, unsigned version,
                                               std::string content_type, std::string body) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "mercato-xgboost");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

}  // namespace

class Server::Impl {
 public:
  Impl(const ServerOptions& options, Predictor& predictor)
      : options_(options), predictor_(predictor), acceptor_(ioc_) {}

  absl::Status Listen() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return absl::InvalidArgumentError(fmt::format("bad bind address {}", options_.host));
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, ec.message()));
    }
    return absl::OkStatus();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  absl::Status Run() {
    std::vector<std::thread> workers;
    for (int i = 0; i < options_.workers; ++i) workers.emplace_back([this] { WorkerLoop(); });
    while (!Stopping()) {
      if (!WaitReadable(acceptor_.native_handle())) continue;
      boost::system::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) continue;
      socket.set_option(tcp::no_delay(true), ec);
      std::lock_guard<std::mutex> lock(mu_);
      pending_.push_back(std::move(socket));
      cv_.notify_one();
    }
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    cv_.notify_all();
    // Idle workers notice the flag within kPollMillis; a worker stuck reading a partial
    // request is unblocked after the grace period by shutting its socket down.
    auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
    while (busy_workers_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : active_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers) t.join();
    return absl::OkStatus();
  }

 private:
  void WorkerLoop() {
    while (true) {
      std::optional<tcp::socket> socket;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(kPollMillis),
                     [this] { return !pending_.empty() || Stopping(); });
        if (Stopping()) {
          pending_.clear();  // not yet read from: closing them is safe
          return;
        }
        if (pending_.empty()) continue;
        socket.emplace(std::move(pending_.front()));
        pending_.pop_front();
        active_fds_.insert(socket->native_handle());
        ++busy_workers_;
      }
      ServeConnection(*socket);
      std::lock_guard<std::mutex> lock(mu_);
      active_fds_.erase(socket->native_handle());
      --busy_workers_;
    }
  }

  bool OthersWaiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return !pending_.empty();
  }

  void ServeConnection(tcp::socket& socket) {
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (true) {
      // Between requests: give the worker back on shutdown or when another connection waits.
      while (buffer.size() == 0 && !WaitReadable(socket.native_handle())) {
        if (Stopping() || OthersWaiting()) {
          socket.shutdown(tcp::socket::shutdown_both, ec);
          return;
        }
      }
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      http::read_header(socket, buffer, parser, ec);
      if (!ec && parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
        http::write(socket, cont, ec);
      }
      if (!ec && !parser.is_done()) http::read(socket, buffer, parser, ec);
      if (ec == http::error::end_of_stream || ec == asio::error::eof) return;
      if (ec) {
        bool too_big = ec == http::error::body_limit;
        auto res = MakeResponse(
            too_big ? http::status::payload_too_large : http::status::bad_request, 11, "text/plain",
            too_big ? fmt::format("Request body exceeds {} bytes\n", options_.max_body_bytes)
                    : "Malformed HTTP request\n");
        res.keep_alive(false);
        res.prepare_payload();
        http::write(socket, res, ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      http::request<http::string_body> req = parser.release();
      auto res = Handle(req);
      res.keep_alive(req.keep_alive() && !Stopping());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !res.keep_alive()) {
        socket.shutdown(tcp::socket::shutdown_send, ec);
        return;
      }
    }
  }

  http::response<http::string_body> Handle(const http::request<http::string_body>& req) {
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    unsigned v = req.version();
    if (target == "/ping") {
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        return MakeResponse(http::status::method_not_allowed, v, "text/plain", "Use GET\n");
      }
      return MakeResponse(http::status::ok, v, "text/plain", "");
    }
    if (target == "/execution-parameters") {
      return MakeResponse(
          http::status::ok, v, "application/json",
          fmt::format(R"({{"MaxConcurrentTransforms": {}, "BatchStrategy": "MULTI_RECORD", )"
                      R"("MaxPayloadInMB": 6}})",
                      options_.workers));
    }
    if (target == "/invocations") {
      if (req.method() != http::verb::post) {
        return MakeResponse(http::status::method_not_allowed, v, "text/plain", "Use POST\n");
      }
      InvokeResult r =
          predictor_.Invoke(req[http::field::content_type], req[http::field::accept], req.body());
      return MakeResponse(static_cast<http::status>(r.http_status), v, r.content_type,
                          std::move(r.body));
    }
    return MakeResponse(http::status::not_found, v, "text/plain",
                        fmt::format("No route for {}\n", std::string(target)));
  }

  const ServerOptions options_;
  Predictor& predictor_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<tcp::socket> pending_;  // guarded by mu_
  std::set<int> active_fds_;         // guarded by mu_
  std::atomic<int> busy_workers_{0};
};

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                                       Predictor& predictor) {
  if (g_stop_pipe[0] < 0 && ::pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError("cannot create the stop pipe");
  }
  auto impl = std::make_unique<Impl>(options, predictor);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
uint16_t Server::port() const { return impl_->port(); }
absl::Status Server::Run() { return impl_->Run(); }
void Server::RequestStop() {
  g_stop = 1;
  if (g_stop_pipe[1] >= 0) {
    [[maybe_unused]] ssize_t n = ::write(g_stop_pipe[1], "x", 1);
  }
}

}  // namespace mercato::xgboost
