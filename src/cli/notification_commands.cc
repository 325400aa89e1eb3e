// `mercato notifications ...`.
#include <iostream>
#include <memory>

#include "base/status.h"
#include "cli/seller_commands.h"

namespace mercato::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

void PrintNotifications(const Json& j) {
  const Json& list = j["Notifications"];
  if (list.empty()) {
    std::cout << "no notifications\n";
    return;
  }
  for (const Json& n : list) {
    std::cout << Str(n, "CreatedAt") << "  " << Str(n, "Type") << "  " << Str(n, "Id")
              << (n.value("Read", false) ? "" : "  (unread)") << "\n  " << Str(n, "Subject")
              << "\n  " << Str(n, "Message") << "\n";
  }
}

void PrintWebhook(const Json& j) {
  if (j.contains("Url") && j["Url"].is_string()) {
    std::cout << "webhook: " << j["Url"].get<std::string>() << "\n";
  } else {
    std::cout << "no webhook\n";
  }
}

}  // namespace

void RegisterNotificationCommands(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("notifications", "list your notifications; manage the webhook");
  cmd->require_subcommand(0, 1);
  auto unread = std::make_shared<bool>(false);
  auto mark_read = std::make_shared<std::string>();
  cmd->add_flag("--unread", *unread, "only unread notifications");
  cmd->add_option("--mark-read", *mark_read, "mark the notification with this id read");

  auto* webhook = cmd->add_subcommand("webhook", "the URL your notifications are posted to");
  webhook->require_subcommand(1);
  auto url = std::make_shared<std::string>();
  auto* set = webhook->add_subcommand("set", "post notifications to an http:// URL");
  set->add_option("URL", *url, "http://host[:port]/path")->required();
  set->callback([&ctx, url] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("PUT", "/api/v1/notifications/webhook", {{"Url", *url}}));
      ctx.Print(j, PrintWebhook);
      return absl::OkStatus();
    });
  });
  webhook->add_subcommand("show", "show the webhook URL")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/notifications/webhook"));
      ctx.Print(j, PrintWebhook);
      return absl::OkStatus();
    });
  });
  webhook->add_subcommand("clear", "stop posting notifications")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("DELETE", "/api/v1/notifications/webhook"));
      ctx.Print(j, PrintWebhook);
      return absl::OkStatus();
    });
  });

  cmd->callback([&ctx, cmd, webhook, unread, mark_read] {
    if (webhook->parsed()) return;
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      if (!mark_read->empty()) {
        ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/notifications/" + *mark_read + "/read"));
        ctx.Print(j, [&](const Json&) { std::cout << "marked " << *mark_read << " read\n"; });
        return absl::OkStatus();
      }
      ASSIGN_OR_RETURN(Json j, c.Call("GET", std::string("/api/v1/notifications") +
                                                 (*unread ? "?unread=true" : "")));
      ctx.Print(j, PrintNotifications);
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
