#include "csv_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "fmt/format.h"

namespace mercato::xgboost {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// An empty field is a missing value (NaN), as in SageMaker's XGBoost.
bool ParseField(std::string_view field, float* out) {
  field = Trim(field);
  if (field.empty()) {
    *out = NAN;
    return true;
  }
  if (field.front() == '+') field.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), *out);
  return ec == std::errc() && ptr == field.data() + field.size();
}

absl::Status LineError(std::string_view source, size_t line, const std::string& detail) {
  return absl::InvalidArgumentError(
      fmt::format("{} line {}: {}", std::string(source), line, detail));
}

}  // namespace

absl::Status AppendCsv(std::string_view text, CsvLayout layout, std::string_view source,
                       xgb::DenseData* out) {
  const size_t meta_cols = (layout.has_label ? 1 : 0) + (layout.has_weight ? 1 : 0);
  std::vector<float> row;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    if (Trim(line).empty()) continue;
    row.clear();
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      std::string_view field = line.substr(start, comma - start);
      float v = 0;
      if (!ParseField(field, &v)) {
        return LineError(source, line_no,
                         fmt::format("column {}: '{}' is not a number", row.size() + 1,
                                     std::string(Trim(field))));
      }
      row.push_back(v);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (row.size() <= meta_cols) {
      return LineError(source, line_no,
                       fmt::format("{} column(s), need at least {}", row.size(), meta_cols + 1));
    }
    size_t features = row.size() - meta_cols;
    if (out->rows == 0 && out->cols == 0) out->cols = features;
    if (features != out->cols) {
      return LineError(source, line_no,
                       fmt::format("{} feature column(s), expected {} like the records before",
                                   features, out->cols));
    }
    if (layout.has_label) {
      if (std::isnan(row[0])) return LineError(source, line_no, "the label is missing");
      out->labels.push_back(row[0]);
    }
    if (layout.has_weight) {
      if (std::isnan(row[1]) || row[1] < 0) {
        return LineError(source, line_no, "the weight (column 2) must be a number >= 0");
      }
      out->weights.push_back(row[1]);
    }
    out->values.insert(out->values.end(), row.begin() + meta_cols, row.end());
    ++out->rows;
  }
  return absl::OkStatus();
}

absl::StatusOr<xgb::DenseData> ReadCsvChannel(const std::filesystem::path& dir,
                                              std::string_view channel, CsvLayout layout) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(
        fmt::format("channel {}: directory {} does not exist", std::string(channel), dir.string()));
  }
  std::vector<std::filesystem::path> files;
  auto it = std::filesystem::recursive_directory_iterator(dir, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) {
    return absl::InternalError(fmt::format("channel {}: cannot list {}: {}", std::string(channel),
                                           dir.string(), ec.message()));
  }
  std::sort(files.begin(), files.end());
  xgb::DenseData data;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in.is_open()) return absl::InternalError(fmt::format("cannot read {}", file.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string name =
        fmt::format("channel {}: {}", std::string(channel), file.lexically_relative(dir).string());
    if (absl::Status s = AppendCsv(buffer.str(), layout, name, &data); !s.ok()) return s;
  }
  if (data.rows == 0) {
    return absl::InvalidArgumentError(
        fmt::format("channel {}: no CSV records found in {}", std::string(channel), dir.string()));
  }
  return data;
}

bool IsCsvContentType(std::string_view content_type) {
  std::string_view base = Trim(content_type.substr(0, content_type.find(';')));
  std::string lower(base);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower == "text/csv" || lower == "csv";
}

}  // namespace mercato::xgboost
