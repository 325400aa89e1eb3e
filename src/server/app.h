// App: the one function that builds mercatod's whole object graph from a Config, and
// owns it. main() and the integration tests both go through App::Create(), so tests run
// exactly the server that ships.
//
// First start on an empty data dir creates the directory layout, the master key (unless
// given), the database, and the operator account, whose credentials are written to
// DIR/admin-credentials (mode 0600). If that file is lost, the next start issues the
// operator a fresh access key and token and writes it again.
// Start/Shutdown/Wait may be called from different threads; Shutdown is idempotent.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/config.h"

namespace mercato::server {

class App {
 public:
  static absl::StatusOr<std::unique_ptr<App>> Create(const Config& config);
  ~App();

  uint16_t port() const;
  std::string admin_credentials_path() const;
  std::string url() const;  // e.g. http://127.0.0.1:8600
  void Start();
  void Shutdown();
  void Wait();

 private:
  struct Impl;
  explicit App(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mercato::server
