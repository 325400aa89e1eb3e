// `mercato endpoints metrics NAME [--minutes N]` and `mercato endpoints instances NAME`.
#include <iostream>

#include "base/status.h"
#include "cli/hosting_commands.h"
#include "cli/image_commands.h"
#include "fmt/format.h"

namespace mercato::cli {
namespace {

std::string Average(const Json& stat) {
  if (!stat.is_object() || !stat.contains("Average")) return "-";
  return fmt::format("{:.0f}", stat["Average"].get<double>());
}

void PrintMetrics(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& v : j["Variants"]) {
    for (const Json& p : v["Datapoints"]) {
      std::string per_instance;
      for (const auto& [id, n] : p["InvocationsPerInstance"].items()) {
        per_instance += fmt::format("{}{}={}", per_instance.empty() ? "" : ",", id, n.dump());
      }
      rows.push_back({v.value("VariantName", ""), p.value("Timestamp", ""), p["Invocations"].dump(),
                      p["Invocation4XXErrors"].dump(), p["Invocation5XXErrors"].dump(),
                      Average(p["ModelLatency"]), Average(p["OverheadLatency"]), per_instance});
    }
  }
  PrintTable({"VARIANT", "MINUTE", "INVOCATIONS", "4XX", "5XX", "MODEL_LATENCY_US",
              "OVERHEAD_LATENCY_US", "PER_INSTANCE"},
             rows);
}

void PrintInstances(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& i : j["Instances"]) {
    rows.push_back({i.value("InstanceId", ""), i.value("VariantName", ""),
                    i.value("Healthy", false) ? "yes" : "no",
                    i.contains("Pid") ? i["Pid"].dump() : ""});
  }
  PrintTable({"INSTANCE", "VARIANT", "HEALTHY", "PID"}, rows);
}

}  // namespace

void RegisterEndpointCommands(CLI::App& app, Context& ctx) {
  auto* endpoints = app.add_subcommand("endpoints", "operate SageMaker endpoints");
  endpoints->require_subcommand(1);

  auto* metrics = endpoints->add_subcommand(
      "metrics", "per-minute invocations, errors and latencies of each variant");
  auto name = std::make_shared<std::string>();
  auto minutes = std::make_shared<int>(60);
  metrics->add_option("NAME", *name, "endpoint name")->required();
  metrics->add_option("--minutes", *minutes, "how far back, 1-1440 (default 60)");
  metrics->callback([&ctx, name, minutes] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", fmt::format("/api/v1/endpoints/{}/metrics?minutes={}",
                                                         UrlEncode(*name), *minutes)));
      ctx.Print(j, PrintMetrics);
      return absl::OkStatus();
    });
  });

  auto* instances =
      endpoints->add_subcommand("instances", "the instances serving an endpoint (pids: operator)");
  auto iname = std::make_shared<std::string>();
  auto account = std::make_shared<std::string>();
  instances->add_option("NAME", *iname, "endpoint name")->required();
  instances->add_option("--account-id", *account, "another account's endpoint (operator)");
  instances->callback([&ctx, iname, account] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      std::string target = fmt::format("/api/v1/endpoints/{}/instances", UrlEncode(*iname));
      if (!account->empty()) target += "?account_id=" + UrlEncode(*account);
      ASSIGN_OR_RETURN(Json j, c.Call("GET", target));
      ctx.Print(j, PrintInstances);
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
