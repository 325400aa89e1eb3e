// `mercato-xgboost train`: SageMaker's XGBoost training contract on libxgboost.
//
// Reads hyperparameters.json and (if present) inputdataconfig.json from the config dir,
// the `train` channel and the optional `validation` channel as CSV, trains
// num_round rounds (stopping early if early_stopping_rounds is set), prints one line per
// round in the format of SageMaker's XGBoost ("[3]\ttrain-merror:0.02000\t..."), and saves
// the model as <model_dir>/xgboost-model. The caller turns an error into the failure file.
// Not thread-safe (one training per process).
#pragma once

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "ml_paths.h"

namespace mercato::xgboost {

// Runs a training job; round lines go to `metrics`, progress notes to `log`.
absl::Status RunTraining(const MlPaths& paths, std::ostream& metrics, std::ostream& log);

// Rewrites XGBoost's evaluation string with 5 decimals per value, as XGBoost's Python
// EvaluationMonitor (and so SageMaker's XGBoost log) shows it. Exposed for tests.
std::string FormatEvalLine(const std::string& xgboost_eval);

}  // namespace mercato::xgboost
