// `mercato-xgboost serve`: the SageMaker inference HTTP contract over a Predictor.
//
//   GET  /ping                  200 once the model is loaded (it is, before we listen)
//   POST /invocations           Predictor::Invoke (Content-Type, Accept passed through)
//   GET  /execution-parameters  {"MaxConcurrentTransforms": N, "BatchStrategy":
//                               "MULTI_RECORD", "MaxPayloadInMB": 6}
//
// A synchronous Boost.Beast server: the calling thread accepts, a fixed pool of worker
// threads serves one keep-alive connection each. An idle connection gives its worker back
// when others are waiting, so a pool smaller than the client's connection pool still
// makes progress. Run() returns after RequestStop() (e.g. from SIGTERM): it stops
// accepting, lets in-flight requests finish, then closes idle connections.
// Thread-safety: RequestStop() is async-signal-safe; everything else is for the owner.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "predictor.h"

namespace mercato::xgboost {

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;  // 0 picks a free port (see Server::port())
  int workers = 2;
  size_t max_body_bytes = 6 * 1024 * 1024;
};

class Server {
 public:
  // Binds and listens; `predictor` must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                        Predictor& predictor);
  ~Server();

  uint16_t port() const;
  // Serves until RequestStop(); returns OK after a clean shutdown.
  absl::Status Run();
  // Sets a process-wide flag checked by every loop at least every 200 ms.
  static void RequestStop();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mercato::xgboost
