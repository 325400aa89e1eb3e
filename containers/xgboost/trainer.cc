#include "trainer.h"

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_split.h"
#include "base/status.h"
#include "csv_data.h"
#include "fmt/format.h"
#include "hyperparameters.h"
#include "nlohmann/json.hpp"
#include "xgb.h"

namespace mercato::xgboost {
namespace {

using nlohmann::json;

// Reads a JSON object file; a missing file is nullopt.
absl::StatusOr<std::optional<json>> ReadJsonObject(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return std::optional<json>();
  std::stringstream buffer;
  buffer << in.rdbuf();
  json parsed = json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(
        fmt::format("{} is not a valid JSON object", path.filename().string()));
  }
  return std::optional<json>(std::move(parsed));
}

absl::StatusOr<std::map<std::string, std::string>> ReadHyperparameters(const MlPaths& paths) {
  auto file = ReadJsonObject(paths.HyperparametersFile());
  if (!file.ok()) return file.status();
  std::map<std::string, std::string> out;
  if (!file->has_value()) return out;
  for (const auto& [name, value] : (**file).items()) {
    // SageMaker always sends strings; tolerate numbers from hand-written files.
    out[name] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

// Checks the content type of each channel we read, when inputdataconfig.json names one.
absl::Status CheckInputDataConfig(const MlPaths& paths, bool* has_validation) {
  auto file = ReadJsonObject(paths.InputDataConfigFile());
  if (!file.ok()) return file.status();
  if (!file->has_value()) return absl::OkStatus();
  const json& config = **file;
  if (!config.contains("train")) {
    return absl::InvalidArgumentError("channel train is required but not configured");
  }
  *has_validation = config.contains("validation");
  for (const char* channel : {"train", "validation"}) {
    if (!config.contains(channel)) continue;
    const json& c = config[channel];
    if (!c.is_object() || !c.contains("ContentType") || !c["ContentType"].is_string()) continue;
    std::string type = c["ContentType"].get<std::string>();
    if (!IsCsvContentType(type)) {
      return absl::InvalidArgumentError(
          fmt::format("channel {}: content type {} is not supported; use text/csv", channel, type));
    }
  }
  return absl::OkStatus();
}

// Multi-class labels must be class indices; XGBoost's own message would not name the channel.
absl::Status CheckLabels(const xgb::DenseData& data, const TrainingConfig& config,
                         std::string_view channel) {
  if (!config.num_class) return absl::OkStatus();
  for (size_t i = 0; i < data.labels.size(); ++i) {
    float label = data.labels[i];
    if (label < 0 || label >= *config.num_class || label != std::floor(label)) {
      return absl::InvalidArgumentError(fmt::format(
          "channel {}: record {} has label {}; with num_class {} labels must be integers in "
          "[0, {})",
          std::string(channel), i + 1, label, *config.num_class, *config.num_class));
    }
  }
  return absl::OkStatus();
}

// The last "name-metric:value" of an evaluation line: what early stopping watches.
std::optional<std::pair<std::string, double>> LastMetric(const std::string& eval) {
  auto tab = eval.rfind('\t');
  if (tab == std::string::npos) return std::nullopt;
  std::string item = eval.substr(tab + 1);
  auto colon = item.rfind(':');
  auto dash = item.find('-');
  if (colon == std::string::npos || dash == std::string::npos || dash > colon) return std::nullopt;
  return std::make_pair(item.substr(dash + 1, colon - dash - 1),
                        std::strtod(item.c_str() + colon + 1, nullptr));
}

}  // namespace

std::string FormatEvalLine(const std::string& xgboost_eval) {
  std::string out;
  for (absl::string_view part : absl::StrSplit(xgboost_eval, '\t')) {
    std::string item(part);
    auto colon = item.rfind(':');
    if (!out.empty()) out += '\t';
    if (item.empty() || item[0] == '[' || colon == std::string::npos) {
      out += item;
      continue;
    }
    char* end = nullptr;
    double value = std::strtod(item.c_str() + colon + 1, &end);
    if (end == item.c_str() + colon + 1) {
      out += item;
    } else {
      out += fmt::format("{}:{:.5f}", item.substr(0, colon), value);
    }
  }
  return out;
}

absl::Status RunTraining(const MlPaths& paths, std::ostream& metrics, std::ostream& log) {
  auto hyperparameters = ReadHyperparameters(paths);
  if (!hyperparameters.ok()) return hyperparameters.status();
  auto config = ValidateHyperparameters(*hyperparameters);
  if (!config.ok()) return config.status();

  bool has_validation = std::filesystem::exists(paths.ChannelDir("validation"));
  RETURN_IF_ERROR(CheckInputDataConfig(paths, &has_validation));
  CsvLayout layout{.has_label = true, .has_weight = config->csv_weights};
  auto train = ReadCsvChannel(paths.ChannelDir("train"), "train", layout);
  if (!train.ok()) return train.status();
  RETURN_IF_ERROR(CheckLabels(*train, *config, "train"));
  std::optional<xgb::DenseData> validation;
  if (has_validation) {
    auto v = ReadCsvChannel(paths.ChannelDir("validation"), "validation", layout);
    if (!v.ok()) return v.status();
    if (v->cols != train->cols) {
      return absl::InvalidArgumentError(fmt::format(
          "channel validation has {} feature columns but train has {}", v->cols, train->cols));
    }
    RETURN_IF_ERROR(CheckLabels(*v, *config, "validation"));
    validation = std::move(*v);
  }
  if (config->early_stopping_rounds && !validation) {
    return absl::InvalidArgumentError(
        "Hyperparameter early_stopping_rounds: requires a validation channel");
  }
  log << fmt::format("Training on {} records with {} features", train->rows, train->cols);
  if (validation) log << fmt::format(", validating on {} records", validation->rows);
  log << std::endl;

  auto dtrain = xgb::DMatrix::FromDense(*train);
  if (!dtrain.ok()) return dtrain.status();
  std::vector<const xgb::DMatrix*> sets = {&*dtrain};
  std::vector<std::string> names = {"train"};
  std::optional<xgb::DMatrix> dvalid;
  if (validation) {
    auto d = xgb::DMatrix::FromDense(*validation);
    if (!d.ok()) return d.status();
    dvalid.emplace(std::move(*d));
    sets.push_back(&*dvalid);
    names.push_back("validation");
  }
  auto booster = xgb::Booster::ForTraining(sets);
  if (!booster.ok()) return booster.status();
  for (const auto& [name, value] : config->booster_params) {
    RETURN_IF_ERROR(booster->SetParam(name, value));
  }

  int best_round = 0;
  double best_score = 0;
  std::string best_line;
  for (int round = 0; round < config->num_round; ++round) {
    RETURN_IF_ERROR(booster->UpdateOneIter(round, *dtrain));
    auto eval = booster->EvalOneIter(round, sets, names);
    if (!eval.ok()) return eval.status();
    std::string line = FormatEvalLine(*eval);
    metrics << line << std::endl;
    if (!config->early_stopping_rounds) continue;
    auto metric = LastMetric(*eval);
    if (!metric) continue;
    bool maximize = MetricIsMaximized(metric->first);
    if (round == 0 || (maximize ? metric->second > best_score : metric->second < best_score)) {
      best_round = round;
      best_score = metric->second;
      best_line = line;
    } else if (round - best_round >= *config->early_stopping_rounds) {
      metrics << "Stopping. Best iteration:\n" << best_line << std::endl;
      break;
    }
  }
  if (config->early_stopping_rounds) {
    RETURN_IF_ERROR(booster->SetAttr("best_iteration", std::to_string(best_round)));
    RETURN_IF_ERROR(booster->SetAttr("best_score", fmt::format("{}", best_score)));
  }

  std::error_code ec;
  std::filesystem::create_directories(paths.model_dir, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create {}: {}", paths.model_dir.string(), ec.message()));
  }
  std::filesystem::path model = paths.model_dir / "xgboost-model";
  RETURN_IF_ERROR(booster->Save(model.string()));
  log << "Saved model to " << model.string() << std::endl;
  return absl::OkStatus();
}

}  // namespace mercato::xgboost
