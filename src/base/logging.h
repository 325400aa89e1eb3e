// Logging: spdlog with one process-wide format. InitLogging() is called once by main();
// libraries just use spdlog::info/warn/error, which are thread-safe.
#pragma once

#include <string_view>

#include "spdlog/spdlog.h"

namespace mercato {

// level: "trace", "debug", "info", "warn", "error" (unknown names mean "info").
void InitLogging(std::string_view level);

}  // namespace mercato
