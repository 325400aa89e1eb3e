// `mercato image ...`: push, build, list, describe, tag, delete, scan-report and run.
#pragma once

#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

void RegisterImageCommands(CLI::App& app, Context& ctx);
// `mercato image run` (image_run_command.cc), registered by RegisterImageCommands.
void RegisterImageRunCommand(CLI::App& image, Context& ctx);
// Percent-encodes everything outside RFC 3986's unreserved set (for query values).
std::string UrlEncode(std::string_view s);

}  // namespace mercato::cli
