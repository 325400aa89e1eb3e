// JSON for Mercato: nlohmann::json under one name, and a parser that returns a Status
// instead of throwing (third-party exceptions stop here). Thread-safe.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace mercato {

using Json = nlohmann::json;

// Parses `text`; malformed JSON is InvalidArgument with the parser's position.
absl::StatusOr<Json> ParseJson(std::string_view text);

}  // namespace mercato
