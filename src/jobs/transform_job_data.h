// The data path of a batch transform job, as pure functions: splitting an input object into
// records (SplitType), JSONPath input/output filters (DataProcessing), grouping records into
// request payloads (BatchStrategy, MaxPayloadInMB), joining outputs with their inputs
// (JoinSource) and assembling one output object (AssembleWith) in input order.
//
// SageMaker's semantics as implemented here:
//   - Line: records are the lines of the object ("\n", a trailing "\r" kept out); empty lines
//     are skipped; a batch is its records each followed by "\n".
//   - RecordIO (MXNet framing) and TFRecord: a record is one complete frame, sent as is; a
//     batch is the frames concatenated.
//   - None: the whole object is one record.
//   - MultiRecord packs consecutive records while the payload stays within the limit
//     (0 = unlimited); a record that alone exceeds the limit is an error.
//   - Filters are a JSONPath subset: `$`, `$[1:]`, `$[0,2]`, `$[-1]`, `$.a.b`, `$['a']`,
//     `$.a[0]`; over CSV records only one bracket step applies (columns), over JSON records
//     any chain of steps.
//   - JoinSource Input: CSV → input columns then output columns; JSON object → the input with
//     "SageMakerOutput" set to the output; JSON array → the output appended.
//   - AssembleWith Line puts a newline after each piece that lacks one; None concatenates.
// Everything here is stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace mercato::jobs::transform {

enum class SplitType { kNone, kLine, kRecordIO, kTFRecord };
enum class BatchStrategy { kSingleRecord, kMultiRecord };
enum class AssembleWith { kNone, kLine };
enum class RecordFormat { kCsv, kJson };

// Enum names as the SageMaker API spells them; InvalidArgument for others.
absl::StatusOr<SplitType> ParseSplitType(std::string_view s);
absl::StatusOr<BatchStrategy> ParseBatchStrategy(std::string_view s);  // also MULTI_RECORD
absl::StatusOr<AssembleWith> ParseAssembleWith(std::string_view s);

// The record format that filters and joins use for a content type: JSON for
// application/json and JSON Lines, CSV otherwise.
RecordFormat FormatForContentType(std::string_view content_type);

// Splits `data` into records (views into `data`). InvalidArgument for a truncated or
// malformed RecordIO/TFRecord frame.
absl::StatusOr<std::vector<std::string_view>> SplitRecords(std::string_view data, SplitType type);

struct Batch {
  size_t first = 0;  // index of its first record
  size_t count = 0;
  std::string payload;    // the request body, unless `view` holds it
  std::string_view view;  // the request body in the records' buffer (see MakeBatches)
  std::string_view bytes() const { return view.data() != nullptr ? view : payload; }
};

// Groups `records` into payloads of at most `max_payload_bytes` (0 = unlimited).
// InvalidArgument naming the record when one alone is larger than the limit.
absl::StatusOr<std::vector<Batch>> MakeBatches(const std::vector<std::string>& records,
                                               SplitType split, BatchStrategy strategy,
                                               uint64_t max_payload_bytes);
// The same over views into `buffer` (the object, no filter applied): a batch whose body
// already lies in `buffer` as is (records back to back, each line followed by its "\n") gets
// `view` into it and no copy, so `buffer` must outlive the batches; others own `payload`.
absl::StatusOr<std::vector<Batch>> MakeBatches(const std::vector<std::string_view>& records,
                                               SplitType split, BatchStrategy strategy,
                                               uint64_t max_payload_bytes,
                                               std::string_view buffer = {});

// A parsed JSONPath of the supported subset.
class JsonPathFilter {
 public:
  // InvalidArgument for syntax outside the subset.
  static absl::StatusOr<JsonPathFilter> Parse(std::string_view expr);
  bool identity() const { return steps_.empty(); }
  // Applies the filter to one record; InvalidArgument when the record does not parse or the
  // path does not exist in it.
  absl::StatusOr<std::string> Apply(std::string_view record, RecordFormat format) const;

 private:
  struct Step {
    enum Kind { kKey, kIndices, kSlice } kind = kKey;
    std::string key;
    std::vector<int64_t> indices;
    std::optional<int64_t> start, end;
  };
  absl::StatusOr<Json> ApplyJson(const Json& value) const;
  std::vector<Step> steps_;
};

// CSV fields of one line ("a,\"b,c\",d" → a | "b,c" | d, quotes kept so joins round-trip).
std::vector<std::string> SplitCsvFields(std::string_view line);

// One record's output joined with its input (JoinSource Input).
absl::StatusOr<std::string> JoinRecord(std::string_view input, std::string_view output,
                                       RecordFormat format);

// The per-record outputs of one batch's response: the whole response for a one-record batch,
// else its lines; InvalidArgument when the count differs from `records`.
absl::StatusOr<std::vector<std::string>> SplitOutputRecords(std::string_view response,
                                                            size_t records);

// Appends one output piece to an assembled object.
void AppendAssembled(std::string* out, std::string_view piece, AssembleWith assemble);

// The output key for an input key: `output_prefix` + the key relative to the input prefix's
// directory (the part of `input_prefix` up to its last '/') + ".out". Both prefixes are keys
// inside their buckets; `output_prefix` gets a '/' appended when non-empty and lacking one.
std::string OutputKeyFor(std::string_view input_key, std::string_view input_prefix,
                         std::string_view output_prefix);

// Decompresses a gzip stream held in memory; InvalidArgument when it is not gzip.
absl::StatusOr<std::string> Gunzip(std::string_view data, uint64_t max_bytes);

}  // namespace mercato::jobs::transform
