// The inference half of the built-in XGBoost container, independent of HTTP: loads the
// model from the model dir and turns an /invocations body into a response body, in
// SageMaker XGBoost's formats.
//
// Request: text/csv, one record per line, features only (no label). Response by Accept:
//   text/csv (default, also for "*/*"): one prediction per line; a multi-output model
//     (multi:softprob) writes one comma-separated probability row per record;
//   application/json: {"predictions": [{"score": 0.9}, ...]} ("score" is a list for
//     multi-output models);
//   application/jsonlines: one {"score": ...} object per line.
// Thread-safe: Invoke may be called from any number of threads (XGBoost calls are
// serialised inside; each prediction is parallelised by XGBoost's OpenMP threads).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "xgb.h"

namespace mercato::xgboost {

struct InvokeResult {
  int http_status = 200;
  std::string content_type = "text/csv";
  std::string body;
};

class Predictor {
 public:
  // Loads <model_dir>/xgboost-model, or the only regular file in model_dir when that name
  // is absent (models trained elsewhere are often saved under another name).
  static absl::StatusOr<std::unique_ptr<Predictor>> Load(const std::filesystem::path& model_dir);

  // Scores `body`. Bad input is 400, an unsupported Content-Type 415, an Accept we cannot
  // produce 406; the body then carries the message as text/plain.
  InvokeResult Invoke(std::string_view content_type, std::string_view accept,
                      std::string_view body);

  const std::filesystem::path& model_file() const { return model_file_; }
  uint64_t num_features() const { return num_features_; }

 private:
  Predictor(std::filesystem::path model_file, xgb::Booster booster, uint64_t num_features)
      : model_file_(std::move(model_file)),
        booster_(std::move(booster)),
        num_features_(num_features) {}

  const std::filesystem::path model_file_;
  std::mutex mu_;
  xgb::Booster booster_;  // guarded by mu_
  const uint64_t num_features_;
};

// Formats a float as Python's str() does for numpy.float32 ("2.0", "0.25", "1e-05"), which
// is what SageMaker's XGBoost writes. Exposed for tests.
std::string FormatScore(float value);

}  // namespace mercato::xgboost
