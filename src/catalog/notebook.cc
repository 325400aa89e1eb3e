#include "catalog/notebook.h"

#include "base/errors.h"
#include "base/json.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

absl::Status Bad(std::string_view why) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidNotebook",
                  fmt::format("the sample notebook is not a valid .ipynb: {}", why));
}

}  // namespace

absl::Status ValidateNotebook(std::string_view text) {
  auto nb = ParseJson(text);
  if (!nb.ok()) return Bad(fmt::format("not JSON ({})", std::string(nb.status().message())));
  if (!nb->is_object()) return Bad("the top level must be a JSON object");
  auto it = nb->find("nbformat");
  if (it == nb->end() || !it->is_number_integer()) return Bad("no integer \"nbformat\" field");
  if (it->get<int64_t>() != 4) {
    return Bad(fmt::format("nbformat {} is not supported (only nbformat 4)", it->dump()));
  }
  auto cells = nb->find("cells");
  if (cells == nb->end() || !cells->is_array()) return Bad("no \"cells\" array");
  for (size_t i = 0; i < cells->size(); ++i) {
    const Json& c = (*cells)[i];
    if (!c.is_object() || !c.contains("cell_type") || !c["cell_type"].is_string()) {
      return Bad(fmt::format("cell {} has no \"cell_type\"", i));
    }
  }
  return absl::OkStatus();
}

}  // namespace mercato::catalog
