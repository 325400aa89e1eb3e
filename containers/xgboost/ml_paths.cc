#include "ml_paths.h"

#include <cctype>
#include <cstdlib>

namespace mercato::xgboost {
namespace {

std::optional<std::string> Env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

MlPaths MlPaths::FromEnvironment(const std::optional<std::string>& prefix_flag) {
  MlPaths paths;
  paths.root = prefix_flag.value_or(Env("MERCATO_ML_PREFIX").value_or("/opt/ml"));
  paths.config_dir = Env("SM_INPUT_CONFIG_DIR").value_or(paths.root / "input" / "config");
  paths.data_dir = paths.root / "input" / "data";
  paths.model_dir = Env("SM_MODEL_DIR").value_or(paths.root / "model");
  paths.output_dir = Env("SM_OUTPUT_DIR").value_or(paths.root / "output");
  return paths;
}

std::filesystem::path MlPaths::ChannelDir(std::string_view channel) const {
  std::string var = "SM_CHANNEL_";
  for (char c : channel) var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (auto dir = Env(var)) return *dir;
  return data_dir / std::string(channel);
}

}  // namespace mercato::xgboost
