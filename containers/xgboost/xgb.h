// Thin RAII wrappers over XGBoost's C API (libxgboost 1.7) for the built-in container.
// Every C API call is checked and its error (first line of XGBGetLastError) becomes an
// absl::Status, so nothing above this file sees return codes or C handles.
//
// Ownership: DMatrix and Booster own their handles and free them on destruction; they are
// movable, not copyable. A DMatrix must outlive any Booster created with it in the cache
// list (XGBoost keeps references). Thread-safety: none of these are thread-safe; callers
// serialise access (the server guards its Booster with a mutex).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mercato::xgb {

// A dense row-major float matrix with optional per-row labels and weights.
struct DenseData {
  std::vector<float> values;   // rows * cols, NaN = missing
  std::vector<float> labels;   // empty or one per row
  std::vector<float> weights;  // empty or one per row
  size_t rows = 0;
  size_t cols = 0;
};

class DMatrix {
 public:
  // Copies `data` into a new XGBoost DMatrix (NaN marks a missing value).
  static absl::StatusOr<DMatrix> FromDense(const DenseData& data);

  DMatrix(DMatrix&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  DMatrix& operator=(DMatrix&& other) noexcept;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix();

  void* handle() const { return handle_; }

 private:
  explicit DMatrix(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

// Result of one prediction call: `values` is rows x cols row-major (cols > 1 only for
// multi:softprob and other multi-output models).
struct Prediction {
  std::vector<float> values;
  size_t rows = 0;
  size_t cols = 1;
};

class Booster {
 public:
  // A booster for training, caching the given matrices (which must outlive it).
  static absl::StatusOr<Booster> ForTraining(const std::vector<const DMatrix*>& cache);
  // Loads a saved model (binary or JSON/UBJSON; XGBoost detects the format).
  static absl::StatusOr<Booster> Load(const std::string& path);

  Booster(Booster&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Booster& operator=(Booster&& other) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster();

  absl::Status SetParam(const std::string& name, const std::string& value);
  absl::Status SetAttr(const std::string& name, const std::string& value);
  absl::Status UpdateOneIter(int iteration, const DMatrix& train);
  // XGBoost's evaluation string, e.g. "[3]\ttrain-merror:0.02\tvalidation-merror:0.03".
  absl::StatusOr<std::string> EvalOneIter(int iteration, const std::vector<const DMatrix*>& sets,
                                          const std::vector<std::string>& names);
  absl::Status Save(const std::string& path);
  absl::StatusOr<uint64_t> NumFeatures();
  absl::StatusOr<Prediction> Predict(const DMatrix& data);

 private:
  explicit Booster(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

// The last XGBoost error, reduced to its first line without the "[time] file:line: " prefix.
std::string LastError();

}  // namespace mercato::xgb
