#include "server/config.h"

#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "base/json.h"
#include "fmt/format.h"

extern char** environ;

namespace mercato::server {

std::string Config::host() const { return listen.substr(0, listen.rfind(':')); }

uint16_t Config::port() const {
  return static_cast<uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

namespace {

absl::Status ApplyFile(const std::string& path, Config& c) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(fmt::format("cannot read config file {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = ParseJson(ss.str());
  if (!j.ok() || !j->is_object()) {
    return absl::InvalidArgumentError(fmt::format("config file {} is not a JSON object", path));
  }
  auto str = [&](const char* key, std::string& out) -> absl::Status {
    if (!j->contains(key)) return absl::OkStatus();
    if (!(*j)[key].is_string()) {
      return absl::InvalidArgumentError(
          fmt::format("config file {}: '{}' must be a string", path, key));
    }
    out = (*j)[key].get<std::string>();
    return absl::OkStatus();
  };
  for (auto [key, field] :
       std::initializer_list<std::pair<const char*, std::string*>>{{"data_dir", &c.data_dir},
                                                                   {"listen", &c.listen},
                                                                   {"region", &c.region},
                                                                   {"tls_cert", &c.tls_cert},
                                                                   {"tls_key", &c.tls_key},
                                                                   {"log_level", &c.log_level}}) {
    if (auto s = str(key, *field); !s.ok()) return s;
  }
  if (j->contains("test_clock"))
    c.test_clock = (*j)["test_clock"].is_boolean() && (*j)["test_clock"].get<bool>();
  return absl::OkStatus();
}

absl::Status Validate(const Config& c) {
  size_t colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        fmt::format("--listen must be HOST:PORT, got '{}'", c.listen));
  }
  std::string port = c.listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return absl::InvalidArgumentError(fmt::format("--listen port must be 0-65535, got '{}'", port));
  }
  if (c.data_dir.empty()) return absl::InvalidArgumentError("--data-dir must not be empty");
  if (c.removal_grace_days < 0 || c.removal_grace_days > 3650) {
    return absl::InvalidArgumentError("--removal-grace-days must be 0-3650");
  }
  if (c.region.empty()) return absl::InvalidArgumentError("--region must not be empty");
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env) {
  Config c;
  auto getenv = [&](const char* name, std::string& out) {
    if (auto it = env.find(name); it != env.end() && !it->second.empty()) out = it->second;
  };
  // The config file is applied first so environment and flags override it.
  std::string config_file;
  getenv("MERCATO_CONFIG", config_file);
  for (size_t i = 1; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") config_file = args[i + 1];
  }
  for (const auto& a : args) {
    if (a.rfind("--config=", 0) == 0) config_file = a.substr(9);
  }
  if (!config_file.empty()) {
    if (auto s = ApplyFile(config_file, c); !s.ok()) return s;
  }
  getenv("MERCATO_DATA_DIR", c.data_dir);
  getenv("MERCATO_LISTEN", c.listen);
  getenv("MERCATO_REGION", c.region);
  getenv("MERCATO_TLS_CERT", c.tls_cert);
  getenv("MERCATO_TLS_KEY", c.tls_key);
  getenv("MERCATO_LOG_LEVEL", c.log_level);
  getenv("MERCATO_MASTER_KEY", c.master_key);
  if (auto it = env.find("MERCATO_REMOVAL_GRACE_DAYS"); it != env.end() && !it->second.empty()) {
    if (!absl::SimpleAtoi(it->second, &c.removal_grace_days)) {
      return absl::InvalidArgumentError(
          fmt::format("MERCATO_REMOVAL_GRACE_DAYS must be a number of days, got '{}'", it->second));
    }
  }
  if (auto it = env.find("MERCATO_TEST_CLOCK"); it != env.end()) {
    c.test_clock = it->second == "1" || it->second == "true" || it->second == "frozen";
    c.frozen_clock = it->second == "frozen";
  }

  CLI::App app{"mercatod: the Mercato marketplace and hosting server", "mercatod"};
  app.add_option("--data-dir", c.data_dir, "directory for everything durable (MERCATO_DATA_DIR)");
  app.add_option("--listen", c.listen, "HOST:PORT to serve on; port 0 picks one (MERCATO_LISTEN)");
  app.add_option("--region", c.region, "region name used in ARNs and SigV4 (MERCATO_REGION)");
  app.add_option("--config", config_file, "JSON config file (MERCATO_CONFIG)");
  app.add_option("--tls-cert", c.tls_cert, "PEM certificate: serve HTTPS (MERCATO_TLS_CERT)");
  app.add_option("--tls-key", c.tls_key, "PEM private key (MERCATO_TLS_KEY)");
  app.add_option("--log-level", c.log_level, "trace|debug|info|warn|error (MERCATO_LOG_LEVEL)");
  app.add_option("--io-threads", c.io_threads, "event-loop threads, 0 = one per core");
  app.add_option("--max-workers", c.max_workers, "concurrent requests being handled");
  app.add_option("--removal-grace-days", c.removal_grace_days,
                 "days a removed product stays usable by its subscribers (default 90)")
      ->check(CLI::Range(0, 3650));
  app.add_flag("--frozen-clock", c.frozen_clock,
               "with --test-clock: the clock moves only when set or advanced "
               "(MERCATO_TEST_CLOCK=frozen)");
  app.add_flag("--test-clock", c.test_clock,
               "start with a controllable clock (POST /api/v1/admin/clock) (MERCATO_TEST_CLOCK)");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    return absl::CancelledError(app.help());
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(fmt::format("{}\nRun with --help for usage.", e.what()));
  }
  if (c.frozen_clock) c.test_clock = true;
  if (auto s = Validate(c); !s.ok()) return s;
  return c;
}

}  // namespace mercato::server
