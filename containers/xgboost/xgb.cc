#include "xgb.h"

#include <xgboost/c_api.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace mercato::xgb {
namespace {

absl::Status Check(int rc, std::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(std::string(what), ": ", LastError()));
}

}  // namespace

std::string LastError() {
  std::string text = XGBGetLastError();
  // XGBoost prefixes "[hh:mm:ss] path/file.cc:123: " and appends a stack trace.
  if (auto eol = text.find('\n'); eol != std::string::npos) text.resize(eol);
  if (!text.empty() && text[0] == '[') {
    if (auto pos = text.find(": "); pos != std::string::npos && text.find(".cc:") < pos) {
      text = text.substr(pos + 2);
    }
  }
  return text;
}

absl::StatusOr<DMatrix> DMatrix::FromDense(const DenseData& data) {
  DMatrixHandle handle = nullptr;
  const float* values = data.values.empty() ? nullptr : data.values.data();
  if (int rc = XGDMatrixCreateFromMat(values, data.rows, data.cols, NAN, &handle); rc != 0) {
    return Check(rc, "creating DMatrix");
  }
  DMatrix matrix(handle);
  if (!data.labels.empty()) {
    if (int rc = XGDMatrixSetFloatInfo(handle, "label", data.labels.data(), data.labels.size());
        rc != 0) {
      return Check(rc, "setting labels");
    }
  }
  if (!data.weights.empty()) {
    if (int rc = XGDMatrixSetFloatInfo(handle, "weight", data.weights.data(), data.weights.size());
        rc != 0) {
      return Check(rc, "setting weights");
    }
  }
  return matrix;
}

DMatrix& DMatrix::operator=(DMatrix&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

DMatrix::~DMatrix() {
  if (handle_ != nullptr) XGDMatrixFree(handle_);
}

absl::StatusOr<Booster> Booster::ForTraining(const std::vector<const DMatrix*>& cache) {
  std::vector<DMatrixHandle> handles;
  for (const DMatrix* m : cache) handles.push_back(m->handle());
  BoosterHandle handle = nullptr;
  if (int rc = XGBoosterCreate(handles.data(), handles.size(), &handle); rc != 0) {
    return Check(rc, "creating booster");
  }
  return Booster(handle);
}

absl::StatusOr<Booster> Booster::Load(const std::string& path) {
  BoosterHandle handle = nullptr;
  if (int rc = XGBoosterCreate(nullptr, 0, &handle); rc != 0) {
    return Check(rc, "creating booster");
  }
  Booster booster(handle);
  if (int rc = XGBoosterLoadModel(handle, path.c_str()); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load XGBoost model ", path, ": ", LastError()));
  }
  return booster;
}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Booster::~Booster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

absl::Status Booster::SetParam(const std::string& name, const std::string& value) {
  return Check(XGBoosterSetParam(handle_, name.c_str(), value.c_str()),
               absl::StrCat("setting parameter ", name));
}

absl::Status Booster::SetAttr(const std::string& name, const std::string& value) {
  return Check(XGBoosterSetAttr(handle_, name.c_str(), value.c_str()),
               absl::StrCat("setting attribute ", name));
}

absl::Status Booster::UpdateOneIter(int iteration, const DMatrix& train) {
  return Check(XGBoosterUpdateOneIter(handle_, iteration, train.handle()), "training");
}

absl::StatusOr<std::string> Booster::EvalOneIter(int iteration,
                                                 const std::vector<const DMatrix*>& sets,
                                                 const std::vector<std::string>& names) {
  std::vector<DMatrixHandle> handles;
  std::vector<const char*> c_names;
  for (const DMatrix* m : sets) handles.push_back(m->handle());
  for (const std::string& n : names) c_names.push_back(n.c_str());
  const char* out = nullptr;
  if (int rc = XGBoosterEvalOneIter(handle_, iteration, handles.data(), c_names.data(),
                                    handles.size(), &out);
      rc != 0) {
    return Check(rc, "evaluating");
  }
  return std::string(out);
}

absl::Status Booster::Save(const std::string& path) {
  return Check(XGBoosterSaveModel(handle_, path.c_str()), absl::StrCat("saving model to ", path));
}

absl::StatusOr<uint64_t> Booster::NumFeatures() {
  bst_ulong n = 0;
  if (int rc = XGBoosterGetNumFeature(handle_, &n); rc != 0) {
    return Check(rc, "reading the model's feature count");
  }
  return n;
}

absl::StatusOr<Prediction> Booster::Predict(const DMatrix& data) {
  static constexpr char kConfig[] =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
      R"( "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (int rc = XGBoosterPredictFromDMatrix(handle_, data.handle(), kConfig, &shape, &dim, &result);
      rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("prediction failed: ", LastError()));
  }
  Prediction out;
  out.rows = dim == 0 ? 0 : shape[0];
  out.cols = 1;
  for (bst_ulong i = 1; i < dim; ++i) out.cols *= shape[i];
  // The buffer belongs to the booster and is reused by the next call: copy it now.
  out.values.assign(result, result + out.rows * out.cols);
  return out;
}

}  // namespace mercato::xgb
