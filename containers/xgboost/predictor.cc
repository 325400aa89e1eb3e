#include "predictor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>
#include <vector>

#include "csv_data.h"
#include "fmt/format.h"

namespace mercato::xgboost {
namespace {

enum class OutputFormat { kCsv, kJson, kJsonLines };

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The first media range in Accept that we can produce; empty Accept means CSV.
std::optional<OutputFormat> ChooseFormat(std::string_view accept) {
  if (Trim(accept).empty()) return OutputFormat::kCsv;
  while (true) {
    size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    std::string type = Lower(Trim(range.substr(0, range.find(';'))));
    if (type == "text/csv" || type == "*/*" || type == "text/*") return OutputFormat::kCsv;
    if (type == "application/json" || type == "application/*") return OutputFormat::kJson;
    if (type == "application/jsonlines" || type == "application/x-jsonlines") {
      return OutputFormat::kJsonLines;
    }
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

InvokeResult Error(int status, std::string message) {
  return InvokeResult{status, "text/plain", std::move(message) + "\n"};
}

// One record's score: a number, or a list for multi-output models.
void AppendScore(const xgb::Prediction& p, size_t row, bool json, std::string* out) {
  if (p.cols == 1) {
    *out += FormatScore(p.values[row]);
    return;
  }
  if (json) *out += '[';
  for (size_t c = 0; c < p.cols; ++c) {
    if (c > 0) *out += json ? ", " : ",";
    *out += FormatScore(p.values[row * p.cols + c]);
  }
  if (json) *out += ']';
}

std::string Encode(const xgb::Prediction& p, OutputFormat format) {
  std::string out;
  switch (format) {
    case OutputFormat::kCsv:
      for (size_t r = 0; r < p.rows; ++r) {
        AppendScore(p, r, false, &out);
        out += '\n';
      }
      break;
    case OutputFormat::kJson:
      out = R"({"predictions": [)";
      for (size_t r = 0; r < p.rows; ++r) {
        out += r == 0 ? R"({"score": )" : R"(, {"score": )";
        AppendScore(p, r, true, &out);
        out += '}';
      }
      out += "]}";
      break;
    case OutputFormat::kJsonLines:
      for (size_t r = 0; r < p.rows; ++r) {
        out += R"({"score": )";
        AppendScore(p, r, true, &out);
        out += "}\n";
      }
      break;
  }
  return out;
}

const char* ContentTypeOf(OutputFormat format) {
  switch (format) {
    case OutputFormat::kCsv:
      return "text/csv";
    case OutputFormat::kJson:
      return "application/json";
    case OutputFormat::kJsonLines:
      return "application/jsonlines";
  }
  return "text/csv";
}

}  // namespace

std::string FormatScore(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string text(buf, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::Load(const std::filesystem::path& model_dir) {
  std::filesystem::path file = model_dir / "xgboost-model";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    std::vector<std::filesystem::path> candidates;
    for (auto it = std::filesystem::directory_iterator(model_dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().filename().string()[0] != '.') {
        candidates.push_back(it->path());
      }
    }
    if (candidates.size() != 1) {
      return absl::NotFoundError(fmt::format(
          "no model in {}: expected xgboost-model or exactly one model file, found {} files",
          model_dir.string(), candidates.size()));
    }
    file = candidates[0];
  }
  auto booster = xgb::Booster::Load(file.string());
  if (!booster.ok()) return booster.status();
  auto features = booster->NumFeatures();
  if (!features.ok()) return features.status();
  return std::unique_ptr<Predictor>(new Predictor(file, std::move(*booster), *features));
}

InvokeResult Predictor::Invoke(std::string_view content_type, std::string_view accept,
                               std::string_view body) {
  if (!Trim(content_type).empty() && !IsCsvContentType(content_type)) {
    return Error(415, fmt::format("Content type {} is not supported; use text/csv",
                                  std::string(content_type)));
  }
  std::optional<OutputFormat> format = ChooseFormat(accept);
  if (!format) {
    return Error(406, fmt::format("Accept {} is not supported; use text/csv, application/json or "
                                  "application/jsonlines",
                                  std::string(accept)));
  }
  xgb::DenseData data;
  if (absl::Status s = AppendCsv(body, CsvLayout{}, "request", &data); !s.ok()) {
    return Error(400, std::string(s.message()));
  }
  if (data.rows == 0) return Error(400, "request has no CSV records");
  if (num_features_ != 0 && data.cols != num_features_) {
    return Error(400, fmt::format("Feature size mismatch: the model expects {} features, the "
                                  "request has {} columns (send features only, no label)",
                                  num_features_, data.cols));
  }
  auto matrix = xgb::DMatrix::FromDense(data);
  if (!matrix.ok()) return Error(400, std::string(matrix.status().message()));
  absl::StatusOr<xgb::Prediction> prediction;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prediction = booster_.Predict(*matrix);
  }
  if (!prediction.ok()) return Error(400, std::string(prediction.status().message()));
  return InvokeResult{200, ContentTypeOf(*format), Encode(*prediction, *format)};
}

}  // namespace mercato::xgboost
