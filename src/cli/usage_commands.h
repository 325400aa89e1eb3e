// `mercato usage [--month YYYY-MM]`: the caller's metered usage in a UTC month (default: the
// current one on the server's clock) by product, resource, use and instance type, with the
// running cost estimate (GET /api/v1/usage; --json prints the API's reply as is).
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

void RegisterUsageCommands(CLI::App& app, Context& ctx);

}  // namespace mercato::cli
