// The products part's commands: `mercato product ...` (sellers' listings, versions,
// visibility, offers), `mercato catalog ...` (search, show, notebook, sample data) and
// `mercato review ...` (add, edit, delete, reply, list). RegisterProductCommands registers
// all three groups; the other two functions are its parts (catalog_commands.cc,
// review_commands.cc).
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

void RegisterProductCommands(CLI::App& app, Context& ctx);
void RegisterCatalogCommands(CLI::App& app, Context& ctx);
void RegisterReviewCommands(CLI::App& app, Context& ctx);

// Reads a whole file; InvalidArgument naming it when it cannot be read.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace mercato::cli
