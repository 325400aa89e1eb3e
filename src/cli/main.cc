// mercato: the command-line client of mercatod's native API.
#include <iostream>

#include "cli/billing_commands.h"
#include "cli/context.h"
#include "cli/hosting_commands.h"
#include "cli/image_commands.h"
#include "cli/product_commands.h"
#include "cli/report_commands.h"
#include "cli/seller_commands.h"
#include "cli/subscription_commands.h"
#include "cli/usage_commands.h"

int main(int argc, char** argv) {
  mercato::cli::Context ctx;
  CLI::App app{"mercato: command-line client for a Mercato server", "mercato"};
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--endpoint", ctx.endpoint, "server URL (MERCATO_ENDPOINT)");
  app.add_option("--token", ctx.token, "bearer token (MERCATO_TOKEN)");
  app.add_option("--profile", ctx.profile_path, "profile file (default ~/.mercato/config)");
  app.add_flag("--json", ctx.json, "print JSON for scripts");

  auto* configure = app.add_subcommand("configure", "save endpoint and token to the profile");
  configure->callback([&ctx] {
    ctx.ResolveSettings();
    absl::Status s = ctx.SaveProfile();
    if (!s.ok()) return ctx.Fail(s);
    std::cout << "saved " << ctx.profile_path << "\n";
  });

  mercato::cli::RegisterAccountCommands(app, ctx);
  mercato::cli::RegisterImageCommands(app, ctx);
  mercato::cli::RegisterLogsCommand(app, ctx);
  mercato::cli::RegisterEndpointCommands(app, ctx);
  mercato::cli::RegisterProductCommands(app, ctx);
  mercato::cli::RegisterSellerCommands(app, ctx);
  mercato::cli::RegisterReportCommands(app, ctx);  // after seller: adds `seller reports`
  mercato::cli::RegisterSubscriptionCommands(app, ctx);
  mercato::cli::RegisterUsageCommands(app, ctx);
  mercato::cli::RegisterBillingCommands(app, ctx);  // after seller/admin: extends them
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : mercato::cli::kExitUsage;
  }
  return ctx.exit_code;
}
