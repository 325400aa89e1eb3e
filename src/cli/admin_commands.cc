// `mercato admin clock ...`: the operator's test clock (mercatod --test-clock).
#include <cctype>
#include <iostream>
#include <memory>

#include "base/errors.h"
#include "base/status.h"
#include "cli/seller_commands.h"

namespace mercato::cli {
namespace {

// "3d", "2h", "90s", "15m", "1w", "1d12h" → seconds.
absl::StatusOr<int64_t> ParseDuration(const std::string& text) {
  int64_t total = 0;
  size_t i = 0;
  auto bad = [&] {
    return absl::InvalidArgumentError("duration \"" + text +
                                      "\": use a number and a unit (s, m, h, d, w), e.g. 3d, "
                                      "2h, 90s or 1d12h");
  };
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size() || i - start > 12) return bad();
    int64_t n = std::stoll(text.substr(start, i - start));
    switch (text[i++]) {
      case 's':
        total += n;
        break;
      case 'm':
        total += n * 60;
        break;
      case 'h':
        total += n * 3600;
        break;
      case 'd':
        total += n * 86400;
        break;
      case 'w':
        total += n * 7 * 86400;
        break;
      default:
        return bad();
    }
  }
  if (total <= 0) return bad();
  return total;
}

void PrintNow(const Json& j) { std::cout << j.value("now", "") << "\n"; }

}  // namespace

void RegisterAdminCommands(CLI::App& app, Context& ctx) {
  auto* admin = app.add_subcommand("admin", "operator commands");
  admin->require_subcommand(1);
  auto* clock = admin->add_subcommand(
      "clock", "the test clock of a mercatod started with --test-clock (it only moves forward)");
  clock->require_subcommand(1);
  clock->add_subcommand("show", "print the server's current time")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/admin/clock"));
      ctx.Print(j, PrintNow);
      return absl::OkStatus();
    });
  });
  auto when = std::make_shared<std::string>();
  auto* set = clock->add_subcommand("set", "set the clock to a later time");
  set->add_option("TIME", *when, "ISO 8601, e.g. 2027-01-01T00:00:00Z")->required();
  set->callback([&ctx, when] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/admin/clock", {{"set", *when}}));
      ctx.Print(j, PrintNow);
      return absl::OkStatus();
    });
  });
  auto by = std::make_shared<std::string>();
  auto* advance = clock->add_subcommand("advance", "move the clock forward");
  advance->add_option("DURATION", *by, "e.g. 3d, 2h, 90s, 1d12h")->required();
  advance->callback([&ctx, by] {
    absl::StatusOr<int64_t> seconds = ParseDuration(*by);
    if (!seconds.ok()) return ctx.Fail(seconds.status());
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j,
                       c.Call("POST", "/api/v1/admin/clock", {{"advance_seconds", *seconds}}));
      ctx.Print(j, PrintNow);
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
