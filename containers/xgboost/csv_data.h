// CSV input for the built-in XGBoost container, in SageMaker XGBoost's layout: no header,
// one record per line, comma-separated numbers, an empty field meaning "missing". For
// training the first column is the label (and, with csv_weights=1, the second an instance
// weight); for inference every column is a feature.
// Pure functions over memory and files; thread-safe.
#pragma once

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xgb.h"

namespace mercato::xgboost {

struct CsvLayout {
  bool has_label = false;
  bool has_weight = false;  // only with has_label
};

// Parses `text` and appends its records to `out`. Every record must have the same width as
// those already in `out`. Errors are InvalidArgument naming `source` and the line.
absl::Status AppendCsv(std::string_view text, CsvLayout layout, std::string_view source,
                       xgb::DenseData* out);

// Reads every regular file under `dir` (recursively, in sorted path order, skipping names
// starting with '.') as CSV. An empty or missing directory is an error.
absl::StatusOr<xgb::DenseData> ReadCsvChannel(const std::filesystem::path& dir,
                                              std::string_view channel, CsvLayout layout);

// True for "text/csv" and "csv", ignoring case, blanks and parameters
// (e.g. "text/csv; label_size=1; charset=utf-8").
bool IsCsvContentType(std::string_view content_type);

}  // namespace mercato::xgboost
