// The subscriptions part's commands (issue 5), over the native API:
//   mercato subscribe PRODUCT [--ref TAG] [--yes]  prints the offer and the EULA's first
//       lines, then subscribes accepting that exact EULA (no interactive prompt; --yes
//       only silences the EULA preview)
//   mercato unsubscribe PRODUCT                    (product id or code, or subscription id)
//   mercato subscriptions                          your subscriptions
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

void RegisterSubscriptionCommands(CLI::App& app, Context& ctx);

}  // namespace mercato::cli
