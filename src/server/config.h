// mercatod's configuration: command-line flags, each also readable from a MERCATO_*
// environment variable and from an optional JSON config file (--config). Precedence:
// flag > environment > config file > built-in default. Pure data + a parser.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mercato::server {

struct Config {
  std::string data_dir = "./.mercato-data";
  std::string listen = "127.0.0.1:8600";
  std::string region = "local";
  std::string tls_cert;
  std::string tls_key;
  std::string log_level = "info";
  std::string master_key;  // MERCATO_MASTER_KEY (hex or base64); empty → DIR/master.key
  bool test_clock = false;
  // With test_clock: the clock stands still between explicit moves (exact arithmetic in
  // billing rehearsals) instead of also ticking in real time.
  bool frozen_clock = false;
  int io_threads = 0;
  int max_workers = 64;
  // How long existing subscribers keep using a removed product (MERCATO_REMOVAL_GRACE_DAYS).
  int removal_grace_days = 90;

  std::string host() const;
  uint16_t port() const;
};

// Parses argv (argv[0] is the program name) with `env` as the environment. Returns
// InvalidArgument with a usage message for bad flags or values; `--help` yields
// Cancelled with the help text as the message.
absl::StatusOr<Config> ParseConfig(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env);

// The current process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace mercato::server
