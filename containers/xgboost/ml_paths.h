// Where the SageMaker container contract puts things (/opt/ml/...), resolved once at start.
//
// The root is /opt/ml unless MERCATO_ML_PREFIX (or the --prefix flag, which wins) says
// otherwise, so tests run the container outside a sandbox against a temp dir. The
// SageMaker training toolkit's variables SM_MODEL_DIR, SM_INPUT_CONFIG_DIR, SM_OUTPUT_DIR
// and SM_CHANNEL_<NAME> override single locations, as they do in SageMaker's own images.
// A plain value type; thread-safe to read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mercato::xgboost {

struct MlPaths {
  std::filesystem::path root;        // /opt/ml
  std::filesystem::path config_dir;  // /opt/ml/input/config
  std::filesystem::path data_dir;    // /opt/ml/input/data
  std::filesystem::path model_dir;   // /opt/ml/model
  std::filesystem::path output_dir;  // /opt/ml/output (the failure file lives here)

  // Reads the environment; `prefix_flag` (from --prefix) overrides MERCATO_ML_PREFIX.
  static MlPaths FromEnvironment(const std::optional<std::string>& prefix_flag);

  // /opt/ml/input/data/<channel>, or $SM_CHANNEL_<CHANNEL> when set.
  std::filesystem::path ChannelDir(std::string_view channel) const;
  std::filesystem::path HyperparametersFile() const { return config_dir / "hyperparameters.json"; }
  std::filesystem::path InputDataConfigFile() const { return config_dir / "inputdataconfig.json"; }
  std::filesystem::path FailureFile() const { return output_dir / "failure"; }
};

}  // namespace mercato::xgboost
