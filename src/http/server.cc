// The Beast server: ServerImpl owns the acceptor, the io threads, the worker pool and the
// timeout sweeper; Connection<Stream> (server_connection.h) is one client connection,
// shared by plain TCP and TLS through its Stream type.
#include "http/server.h"

#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "http/server_connection.h"
#include "spdlog/spdlog.h"

namespace mercato::http::internal {

thread_local bool t_server_thread = false;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ConnBase::ConnBase(ServerCore& core, int fd) : core_(core), fd_(fd) { core_.Register(this); }
ConnBase::~ConnBase() { core_.Unregister(this); }

namespace {

using PlainStream = tcp::socket;
// Not beast::ssl_stream: its write coalescing (flat_stream) stalls, writing 0 bytes forever,
// on some gathers asio::write hands it in Boost 1.74.
using TlsStream = ssl::stream<tcp::socket>;

absl::Status CheckReadable(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(fmt::format("cannot read TLS {} {}", what, path));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ssl::context>> MakeTlsContext(const ServerOptions& options) {
  RETURN_IF_ERROR(CheckReadable(options.tls_cert_file, "certificate"));
  RETURN_IF_ERROR(CheckReadable(options.tls_key_file, "key"));
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  ctx->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("invalid TLS certificate {}: {}", options.tls_cert_file, ec.message()));
  }
  ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("invalid TLS key {}: {}", options.tls_key_file, ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(fmt::format("TLS key {} does not match certificate {}",
                                                  options.tls_key_file, options.tls_cert_file));
  }
  return ctx;
}

int64_t ToNs(absl::Duration d) {
  return d == absl::InfiniteDuration() ? int64_t{1} << 62 : absl::ToInt64Nanoseconds(d);
}

class ServerImpl final : public Server, public ServerCore {
 private:
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    std::shared_ptr<ConnBase> task;  // handed over by Enqueue()
  };

 public:
  ServerImpl(const ServerOptions& options, Handler& handler, int io_threads)
      : ServerCore(handler), options_(options), io_threads_(io_threads), ioc_(io_threads) {
    config_.idle_timeout_ns = ToNs(options.idle_timeout);
    config_.io_timeout_ns = ToNs(options.io_timeout);
    config_.max_header_bytes = static_cast<uint32_t>(
        std::min<uint64_t>(options.max_header_bytes, std::numeric_limits<uint32_t>::max()));
  }

  ~ServerImpl() override {
    Shutdown(absl::ZeroDuration());
    Wait();
    std::lock_guard lock(shutdown_mu_);
    if (shutdown_thread_.joinable()) shutdown_thread_.join();
  }

  absl::Status Listen(std::unique_ptr<ssl::context> tls) {
    tls_ = std::move(tls);
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(options_.host, "", ec);
      if (ec || results.empty()) {
        return absl::InvalidArgumentError(fmt::format("cannot resolve host '{}'", options_.host));
      }
      address = results.begin()->endpoint().address();
    }
    const std::string where = fmt::format("{}:{}", options_.host, options_.port);
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (ec == asio::error::address_in_use) {
      return absl::UnavailableError(fmt::format("{} is in use", where));
    }
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return absl::UnavailableError(fmt::format("cannot listen on {}: {}", where, ec.message()));
    port_ = acceptor_.local_endpoint(ec).port();
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }

  void Start() override {
    std::lock_guard lock(shutdown_mu_);
    if (started_ || shutdown_started_) return;
    started_ = true;
    work_guard_.emplace(ioc_.get_executor());
    asio::dispatch(strand_, [this] {
      DoAccept();
      ArmSweeper();
    });
    for (int i = 0; i < io_threads_; ++i) {
      io_thread_pool_.emplace_back([this] { RunIo(); });
    }
  }

  void Shutdown(absl::Duration drain) override {
    {
      std::lock_guard lock(shutdown_mu_);
      if (!shutdown_started_) {
        shutdown_started_ = true;
        stopping_.store(true);
        shutdown_thread_ = std::thread([this, drain] { DoShutdown(drain); });
      }
    }
    // A handler calling Shutdown() must not wait for itself to finish.
    if (!t_server_thread) Wait();
  }

  void Wait() override {
    std::unique_lock lock(shutdown_mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }

  // ServerCore:
  // Hands the connection straight to the most recently idle worker (its cache is warm and
  // only it is woken), else starts a worker, else queues.
  void Enqueue(std::shared_ptr<ConnBase> conn) override {
    Worker* wake = nullptr;
    {
      std::lock_guard lock(work_mu_);
      if (workers_stop_) return;
      active_requests_.fetch_add(1);
      if (!idle_.empty()) {
        wake = idle_.back();
        idle_.pop_back();
        wake->task = std::move(conn);
      } else if (static_cast<int>(workers_.size()) < std::max(1, options_.max_workers)) {
        auto worker = std::make_unique<Worker>();
        worker->task = std::move(conn);
        Worker* w = worker.get();
        worker->thread = std::thread([this, w] { RunWorker(*w); });
        workers_.push_back(std::move(worker));
      } else {
        queue_.push_back(std::move(conn));
      }
    }
    if (wake) wake->cv.notify_one();
  }

  void RequestDone() override {
    if (active_requests_.fetch_sub(1) == 1 && stopping_.load()) {
      { std::lock_guard lock(work_mu_); }
      drain_cv_.notify_all();
    }
  }

  bool stopping() const override { return stopping_.load(); }
  ssl::context* tls() override { return tls_.get(); }

 private:
  void RunIo() {
    t_server_thread = true;
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: io thread caught exception: {}", e.what());
      }
    }
  }

  void RunWorker(Worker& self) {
    t_server_thread = true;
    std::unique_lock lock(work_mu_);
    for (;;) {
      if (!self.task) {
        if (!queue_.empty()) {
          self.task = std::move(queue_.front());
          queue_.pop_front();
        } else {
          idle_.push_back(&self);
          self.cv.wait(lock, [&] { return workers_stop_ || self.task != nullptr; });
        }
      }
      if (workers_stop_) return;
      std::shared_ptr<ConnBase> conn = std::move(self.task);
      lock.unlock();
      conn->Serve();
      conn.reset();
      lock.lock();
    }
  }

  void DoAccept() {
    acceptor_.async_accept(asio::bind_executor(
        strand_,
        [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); }));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping_.load() || !acceptor_.is_open()) return;
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning on the error.
      spdlog::warn("http: accept failed: {}", ec.message());
      accept_retry_timer_.expires_after(std::chrono::milliseconds(50));
      accept_retry_timer_.async_wait(asio::bind_executor(strand_, [this](beast::error_code ec) {
        if (!ec && !stopping_.load()) DoAccept();
      }));
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls_) {
      std::make_shared<Connection<TlsStream>>(*this, std::move(socket))->Run();
    } else {
      std::make_shared<Connection<PlainStream>>(*this, std::move(socket))->Run();
    }
    DoAccept();
  }

  // One timer checks every connection's deadline, so no per-operation timer is needed.
  void ArmSweeper() {
    int64_t tick_ns = std::min(config_.idle_timeout_ns, config_.io_timeout_ns) / 4;
    tick_ns = std::clamp<int64_t>(tick_ns, 10'000'000, 1'000'000'000);
    sweeper_.expires_after(std::chrono::nanoseconds(tick_ns));
    sweeper_.async_wait(asio::bind_executor(strand_, [this](beast::error_code ec) {
      if (ec || stopping_.load()) return;
      Sweep();
      ArmSweeper();
    }));
  }

  void Sweep() {
    const int64_t now = NowNs();
    std::lock_guard lock(conns_mu_);
    for (ConnBase* conn : conns_) {
      int64_t deadline = conn->deadline_ns_.load(std::memory_order_relaxed);
      if (deadline != 0 && now > deadline) {
        conn->timed_out_.store(true);
        conn->Abort();
      }
    }
  }

  // Aborts connections with no request in progress (or all); returns how many remain.
  size_t AbortConnections(bool all) {
    std::lock_guard lock(conns_mu_);
    for (ConnBase* conn : conns_) {
      ConnState state = conn->state_.load();
      if (!all) {
        if (state == ConnState::kBusy) continue;
        // An idle connection whose headers just completed is busy now; leave it be.
        if (state == ConnState::kIdle &&
            !conn->state_.compare_exchange_strong(state, ConnState::kClosed)) {
          continue;
        }
      }
      conn->Abort();
    }
    return conns_.size();
  }

  void DoShutdown(absl::Duration drain) {
    bool started;
    {
      std::lock_guard lock(shutdown_mu_);
      started = started_;
    }
    if (started) {
      asio::post(strand_, [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        sweeper_.cancel();
        accept_retry_timer_.cancel();
      });
      AbortConnections(/*all=*/false);
      {
        std::unique_lock lock(work_mu_);
        drain_cv_.wait_for(lock, absl::ToChronoNanoseconds(drain),
                           [this] { return active_requests_.load() == 0; });
      }
      if (active_requests_.load() != 0) {
        spdlog::warn("http: drain timeout, aborting {} requests", active_requests_.load());
      }
      {
        std::lock_guard lock(work_mu_);
        workers_stop_ = true;
        queue_.clear();
        for (auto& worker : workers_) worker->task.reset();
      }
      for (auto& worker : workers_) worker->cv.notify_all();
      AbortConnections(/*all=*/true);
      for (auto& worker : workers_) worker->thread.join();
      work_guard_.reset();
      // Let the io threads finish the aborted connections before stopping the loop.
      for (int i = 0; i < 200 && AbortConnections(/*all=*/true) > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ioc_.stop();
      for (auto& t : io_thread_pool_) t.join();
    } else {
      beast::error_code ignored;
      acceptor_.close(ignored);
    }
    std::lock_guard lock(shutdown_mu_);
    done_ = true;
    done_cv_.notify_all();
  }

  const ServerOptions options_;
  const int io_threads_;
  uint16_t port_ = 0;
  std::unique_ptr<ssl::context> tls_;  // outlives every connection (declared before ioc_)

  // Worker pool. active_requests_ counts requests from complete headers to written response.
  std::mutex work_mu_;
  std::condition_variable drain_cv_;
  std::deque<std::shared_ptr<ConnBase>> queue_;  // when every worker is busy
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> idle_;  // LIFO
  bool workers_stop_ = false;
  std::atomic<int> active_requests_{0};

  std::atomic<bool> stopping_{false};
  std::mutex shutdown_mu_;
  std::condition_variable done_cv_;
  bool started_ = false;
  bool shutdown_started_ = false;
  bool done_ = false;
  std::thread shutdown_thread_;

  // Destroyed before the members above, so connections still queued in the io_context
  // can unregister themselves while it is torn down.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_guard_;
  asio::strand<asio::io_context::executor_type> strand_{ioc_.get_executor()};
  tcp::acceptor acceptor_{ioc_};
  asio::steady_timer sweeper_{ioc_};
  asio::steady_timer accept_retry_timer_{ioc_};
  std::vector<std::thread> io_thread_pool_;
};

}  // namespace
}  // namespace mercato::http::internal

namespace mercato::http {

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                                       Handler& handler) {
  try {
    std::unique_ptr<boost::asio::ssl::context> tls;
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
        return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
      }
      ASSIGN_OR_RETURN(tls, internal::MakeTlsContext(options));
    }
    int io_threads = options.io_threads > 0 ? options.io_threads
                                            : static_cast<int>(std::thread::hardware_concurrency());
    auto server = std::make_unique<internal::ServerImpl>(options, handler, std::max(1, io_threads));
    RETURN_IF_ERROR(server->Listen(std::move(tls)));
    return server;
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("cannot create HTTP server: {}", e.what()));
  }
}

}  // namespace mercato::http
