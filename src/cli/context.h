// What every `mercato` subcommand shares: the resolved endpoint and token (flag >
// MERCATO_ENDPOINT/MERCATO_TOKEN > profile file ~/.mercato/config), the output mode
// (--json or human tables), and helpers to print results and errors with the right exit
// code. Subcommands register themselves with Register*Commands(). Single-threaded.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "base/json.h"
#include "cli/client.h"

namespace mercato::cli {

// Exit codes: 0 ok, 1 the server refused (API error), 2 usage or connection problem.
inline constexpr int kExitApiError = 1;
inline constexpr int kExitUsage = 2;

struct Context {
  std::string endpoint;
  std::string token;
  std::string profile_path;
  bool json = false;
  int exit_code = 0;

  // Fills endpoint/token not given by flags from MERCATO_ENDPOINT/MERCATO_TOKEN, then the
  // profile file; the endpoint defaults to http://127.0.0.1:8600.
  void ResolveSettings();
  // Writes endpoint and token to the profile file (mode 0600).
  absl::Status SaveProfile() const;
  // Builds a client from the resolved settings.
  absl::StatusOr<Client> MakeClient() const;
  // Prints `value` as JSON (--json) or via `human` otherwise.
  void Print(const Json& value, const std::function<void(const Json&)>& human) const;
  // Reports an error on stderr and sets the exit code.
  void Fail(const absl::Status& status);
};

// Prints rows under headers, columns aligned.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);

// Runs `fn` with a client, printing errors; the typical body of a subcommand callback.
void RunWithClient(Context& ctx, const std::function<absl::Status(const Client&)>& fn);

void RegisterAccountCommands(CLI::App& app, Context& ctx);

}  // namespace mercato::cli
