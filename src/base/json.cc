#include "base/json.h"

#include "absl/strings/str_cat.h"

namespace mercato {

absl::StatusOr<Json> ParseJson(std::string_view text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("request body is not valid JSON");
  return j;
}

}  // namespace mercato
