// The reports part's commands (issue 6), over the native API (api/v1/report_routes.h):
//   mercato seller reports                       list the data set types and their columns
//   mercato seller reports DATASET --date YYYY-MM-DD | --month YYYY-MM [--format csv|json]
// Without --format the rows print as a table (or JSON with --json); --format csv prints the
// CSV as the server renders it, --format json the server's JSON. Registered under the
// `seller` command (created here if the sellers part's commands are not built).
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

void RegisterReportCommands(CLI::App& app, Context& ctx);

}  // namespace mercato::cli
