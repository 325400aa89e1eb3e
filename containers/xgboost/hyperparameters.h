// Validation of the built-in XGBoost algorithm's hyperparameters, the way SageMaker's
// XGBoost container checks them before training: every value arrives as a string (from
// hyperparameters.json), is checked for type and range, unknown names are rejected, and
// the error message names the parameter so it can go straight into FailureReason.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mercato::xgboost {

// What training needs, split into the values the container consumes itself and the
// parameters handed to XGBoost unchanged.
struct TrainingConfig {
  int num_round = 0;
  std::optional<int> early_stopping_rounds;
  bool csv_weights = false;  // second CSV column is an instance weight
  std::string objective = "reg:squarederror";
  std::optional<int> num_class;
  // Passed to XGBoosterSetParam in order; eval_metric may appear several times.
  std::vector<std::pair<std::string, std::string>> booster_params;
};

// Checks `hyperparameters` (name -> string value). Errors are InvalidArgument with a
// message such as "Hyperparameter eta: value 5 is out of range [0, 1]".
absl::StatusOr<TrainingConfig> ValidateHyperparameters(
    const std::map<std::string, std::string>& hyperparameters);

// True when a metric (e.g. "auc", "ndcg@5", "map-") improves by growing; early stopping
// uses it as XGBoost's Python package does.
bool MetricIsMaximized(const std::string& metric);

}  // namespace mercato::xgboost
