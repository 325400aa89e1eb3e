// The sellers part's commands (issue 5), over the native API:
//   mercato seller register --legal-name … --email … --country CC [--state ST]
//                           --bank-account … --bank-routing …   (again to update)
//   mercato seller show
//   mercato notifications [--unread] [--mark-read ID]
//   mercato notifications webhook set URL | show | clear
//   mercato admin clock show | set ISO8601 | advance 3d|2h|90s|1d12h   (operator, only
//                                                   against mercatod --test-clock)
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

// Registers the seller, notifications and admin commands.
void RegisterSellerCommands(CLI::App& app, Context& ctx);
void RegisterNotificationCommands(CLI::App& app, Context& ctx);  // notification_commands.cc
void RegisterAdminCommands(CLI::App& app, Context& ctx);         // admin_commands.cc

}  // namespace mercato::cli
