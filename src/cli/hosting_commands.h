// `mercato logs ...` (logs_commands.cc) and `mercato endpoints ...` (endpoint_commands.cc):
// the operations side of SageMaker hosting over the native API (api/v1/hosting_routes.h).
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

// mercato logs NAME [--follow] [--since 10m|ISO8601]: an endpoint's logs, else a training
// job's, else a transform job's.
void RegisterLogsCommand(CLI::App& app, Context& ctx);
// mercato endpoints metrics NAME [--minutes N]; mercato endpoints instances NAME.
void RegisterEndpointCommands(CLI::App& app, Context& ctx);

}  // namespace mercato::cli
