// `mercato logs NAME [--follow] [--since 10m|ISO8601]`. NAME is looked up as an endpoint
// (/api/v1/logs/endpoints/NAME), then a training job and a transform job
// (/api/v1/logs/{training,transform}-jobs/NAME); the first that exists is shown. Answers
// carry `events` ({timestamp, instance, stream, message}) or plain `lines`, and a
// `next_line` cursor; --follow polls with since_line=next_line until interrupted, or until a
// job's answer says `done`.
#include <chrono>
#include <iostream>
#include <thread>

#include "base/errors.h"
#include "base/status.h"
#include "cli/hosting_commands.h"
#include "cli/image_commands.h"
#include "fmt/format.h"

namespace mercato::cli {
namespace {

constexpr const char* kKinds[] = {"endpoints", "training-jobs", "transform-jobs"};

// "10m" → "600" (seconds ago, as the API takes it); an ISO 8601 time passes as is.
absl::StatusOr<std::string> SinceParam(const std::string& since) {
  if (since.empty()) return std::string();
  size_t digits = since.find_first_not_of("0123456789");
  if (digits == std::string::npos) return since;  // seconds
  if (digits > 0 && digits + 1 == since.size()) {
    int64_t n = std::stoll(since.substr(0, digits));
    switch (since.back()) {
      case 's':
        return std::to_string(n);
      case 'm':
        return std::to_string(n * 60);
      case 'h':
        return std::to_string(n * 3600);
      case 'd':
        return std::to_string(n * 86400);
    }
  }
  if (since.size() >= 10 && since[4] == '-') return since;  // ISO 8601; the server checks it
  return absl::InvalidArgumentError(fmt::format(
      "--since must be a duration like 30s, 10m, 2h, 1d or an ISO 8601 time, got '{}'", since));
}

void PrintEvents(const Context& ctx, const Json& page) {
  if (page.contains("events")) {
    for (const Json& e : page["events"]) {
      if (ctx.json) {
        std::cout << e.dump() << "\n";
      } else {
        std::cout << e.value("timestamp", "") << " " << e.value("instance", "") << " "
                  << e.value("message", "") << "\n";
      }
    }
  } else if (page.contains("lines")) {
    for (const Json& l : page["lines"]) {
      std::cout << (l.is_string() ? l.get<std::string>() : l.dump()) << "\n";
    }
  }
  std::cout.flush();
}

struct LogsArgs {
  std::string name;
  std::string since;
  bool follow = false;
};

absl::Status ShowLogs(const Context& ctx, const Client& c, const LogsArgs& a) {
  ASSIGN_OR_RETURN(std::string since, SinceParam(a.since));
  std::string query = since.empty() ? "" : "since=" + UrlEncode(since) + "&";
  // Which kind of resource has the name: the first whose logs route knows it.
  std::string base;
  Json page;
  for (const auto& kind : kKinds) {
    std::string target = fmt::format("/api/v1/logs/{}/{}", kind, UrlEncode(a.name));
    auto r = c.Call("GET", target + "?" + query + "since_line=0");
    if (absl::IsNotFound(r.status())) continue;
    if (!r.ok()) return r.status();
    base = target;
    page = std::move(*r);
    break;
  }
  if (base.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("no endpoint, training job or transform job named {} in this "
                                "account",
                                a.name));
  }
  while (true) {
    PrintEvents(ctx, page);
    if (!a.follow || page.value("done", false)) return absl::OkStatus();
    int64_t next = page.value("next_line", int64_t{0});
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSIGN_OR_RETURN(page, c.Call("GET", fmt::format("{}?{}since_line={}", base, query, next)));
  }
}

}  // namespace

void RegisterLogsCommand(CLI::App& app, Context& ctx) {
  auto* logs =
      app.add_subcommand("logs", "show the logs of an endpoint, training job or transform job");
  auto args = std::make_shared<LogsArgs>();
  logs->add_option("NAME", args->name, "endpoint, training job or transform job name")->required();
  logs->add_flag("-f,--follow", args->follow, "keep printing new lines until interrupted");
  logs->add_option("--since", args->since, "only lines since a duration ago (10m) or a time");
  logs->callback([&ctx, args] {
    RunWithClient(ctx, [&](const Client& c) { return ShowLogs(ctx, c, *args); });
  });
}

}  // namespace mercato::cli
