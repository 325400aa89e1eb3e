// The HTTP/1.1 server (Boost.Beast over Asio) behind Mercato's one listening port.
//
// Threading: `io_threads` threads (default: one per core) run the Asio event loop; they
// accept connections and wait for request headers without blocking. A complete set of
// headers is handed to a worker thread (bounded pool), which calls Handler::Handle();
// the handler may block (read the body, touch disk or the store) and its response is
// written from that worker. Idle keep-alive connections hold no thread.
//
// TLS is served when a certificate and key are configured. Shutdown() stops accepting,
// lets in-flight requests finish (up to a drain timeout), then closes idle connections.
// Handler must outlive the server and be thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/message.h"

namespace mercato::http {

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on a worker thread for every request. Unread body bytes are discarded by the
  // server (or the connection is closed if that is cheaper).
  virtual Response Handle(Request& request, BodyReader& body) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8600;       // 0 picks a free port; see Server::port()
  int io_threads = 0;         // 0: one per core
  int max_workers = 64;       // concurrent requests being handled
  std::string tls_cert_file;  // PEM; TLS is on when both are set
  std::string tls_key_file;
  absl::Duration idle_timeout = absl::Seconds(60);  // keep-alive idle limit
  absl::Duration io_timeout = absl::Seconds(120);   // no progress reading/writing a message
  uint64_t max_header_bytes = 64 * 1024;
};

class Server {
 public:
  // Binds the listening socket (so port() is known) but does not serve until Start().
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                        Handler& handler);
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;
  virtual void Start() = 0;
  // Stops accepting, waits up to `drain` for in-flight requests, then closes everything.
  // Safe to call from any thread (including a signal-watching thread), more than once.
  virtual void Shutdown(absl::Duration drain = absl::Seconds(30)) = 0;
  // Blocks until Shutdown() has completed.
  virtual void Wait() = 0;
};
using ServerPtr = std::unique_ptr<Server>;

}  // namespace mercato::http
