#include "jobs/transform_job_data.h"

#include <archive.h>
#include <archive_entry.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>

#include "base/status.h"
#include "fmt/format.h"

namespace mercato::jobs::transform {
namespace {

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(message); }

uint32_t ReadU32(std::string_view d, size_t at) {
  uint32_t v;
  std::memcpy(&v, d.data() + at, 4);
  return v;  // little-endian hosts only, like the formats themselves
}

uint64_t ReadU64(std::string_view d, size_t at) {
  uint64_t v;
  std::memcpy(&v, d.data() + at, 8);
  return v;
}

absl::StatusOr<std::vector<std::string_view>> SplitRecordIO(std::string_view data) {
  constexpr uint32_t kMagic = 0xced7230a;
  std::vector<std::string_view> out;
  size_t pos = 0, record_start = 0;
  bool in_multipart = false;
  while (pos < data.size()) {
    if (data.size() - pos < 8 || ReadU32(data, pos) != kMagic) {
      return Invalid(fmt::format("malformed RecordIO frame at byte {}", pos));
    }
    uint32_t lrec = ReadU32(data, pos + 4);
    uint32_t cflag = lrec >> 29, len = lrec & ((1u << 29) - 1);
    size_t frame = 8 + ((static_cast<size_t>(len) + 3) & ~size_t{3});
    if (data.size() - pos < 8 + static_cast<size_t>(len)) {
      return Invalid(fmt::format("truncated RecordIO frame at byte {}", pos));
    }
    if (!in_multipart) record_start = pos;
    pos = std::min(data.size(), pos + frame);
    if (cflag == 1 || cflag == 2) {
      in_multipart = true;
      continue;
    }
    in_multipart = false;
    out.push_back(data.substr(record_start, pos - record_start));
  }
  if (in_multipart) return Invalid("RecordIO data ends inside a multi-part record");
  return out;
}

absl::StatusOr<std::vector<std::string_view>> SplitTFRecord(std::string_view data) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 12) return Invalid(fmt::format("truncated TFRecord at byte {}", pos));
    uint64_t len = ReadU64(data, pos);
    if (len > data.size() || data.size() - pos - 12 < len + 4) {
      return Invalid(fmt::format("truncated TFRecord at byte {}", pos));
    }
    size_t frame = 12 + static_cast<size_t>(len) + 4;
    out.push_back(data.substr(pos, frame));
    pos += frame;
  }
  return out;
}

std::string_view TrimNewline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

absl::StatusOr<int64_t> ParseInt(std::string_view s) {
  s = TrimSpace(s);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return Invalid(fmt::format("'{}' is not an integer", std::string(s)));
  }
  return v;
}

// Selected positions of a [..] step over a sequence of `n` items.
std::vector<size_t> Select(const std::vector<int64_t>& indices, std::optional<int64_t> start,
                           std::optional<int64_t> end, bool slice, size_t n) {
  auto norm = [n](int64_t i) { return i < 0 ? i + static_cast<int64_t>(n) : i; };
  std::vector<size_t> out;
  if (slice) {
    int64_t b = std::max<int64_t>(0, start ? norm(*start) : 0);
    int64_t e = std::min<int64_t>(static_cast<int64_t>(n), end ? norm(*end) : n);
    for (int64_t i = b; i < e; ++i) out.push_back(static_cast<size_t>(i));
    return out;
  }
  for (int64_t i : indices) {
    int64_t k = norm(i);
    if (k >= 0 && k < static_cast<int64_t>(n)) out.push_back(static_cast<size_t>(k));
  }
  return out;
}

}  // namespace

absl::StatusOr<SplitType> ParseSplitType(std::string_view s) {
  if (s == "None") return SplitType::kNone;
  if (s == "Line") return SplitType::kLine;
  if (s == "RecordIO") return SplitType::kRecordIO;
  if (s == "TFRecord") return SplitType::kTFRecord;
  return Invalid(fmt::format("unknown SplitType '{}'", std::string(s)));
}

absl::StatusOr<BatchStrategy> ParseBatchStrategy(std::string_view s) {
  if (s == "SingleRecord" || s == "SINGLE_RECORD") return BatchStrategy::kSingleRecord;
  if (s == "MultiRecord" || s == "MULTI_RECORD") return BatchStrategy::kMultiRecord;
  return Invalid(fmt::format("unknown BatchStrategy '{}'", std::string(s)));
}

absl::StatusOr<AssembleWith> ParseAssembleWith(std::string_view s) {
  if (s == "None") return AssembleWith::kNone;
  if (s == "Line") return AssembleWith::kLine;
  return Invalid(fmt::format("unknown AssembleWith '{}'", std::string(s)));
}

RecordFormat FormatForContentType(std::string_view content_type) {
  std::string t(TrimSpace(content_type.substr(0, content_type.find(';'))));
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "application/json" || t == "application/jsonlines" || t == "application/x-jsonlines" ||
      t == "application/jsonl") {
    return RecordFormat::kJson;
  }
  return RecordFormat::kCsv;
}

absl::StatusOr<std::vector<std::string_view>> SplitRecords(std::string_view data, SplitType type) {
  switch (type) {
    case SplitType::kNone:
      return std::vector<std::string_view>{data};
    case SplitType::kRecordIO:
      return SplitRecordIO(data);
    case SplitType::kTFRecord:
      return SplitTFRecord(data);
    case SplitType::kLine:
      break;
  }
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    std::string_view line = data.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

namespace {

template <typename Record>
absl::StatusOr<std::vector<Batch>> MakeBatchesOf(const std::vector<Record>& records,
                                                 SplitType split, BatchStrategy strategy,
                                                 uint64_t max_payload_bytes,
                                                 std::string_view buffer) {
  const size_t sep = split == SplitType::kLine ? 1 : 0;
  // First where each batch starts and ends, then its bytes: known sizes, one copy at most.
  std::vector<Batch> out;
  std::vector<uint64_t> sizes;
  for (size_t i = 0; i < records.size(); ++i) {
    uint64_t size = records[i].size() + sep;
    if (max_payload_bytes != 0 && size > max_payload_bytes) {
      return Invalid(
          fmt::format("record {} is {} bytes, more than MaxPayloadInMB allows ({} bytes)", i + 1,
                      size, max_payload_bytes));
    }
    if (out.empty() || strategy == BatchStrategy::kSingleRecord ||
        (max_payload_bytes != 0 && sizes.back() + size > max_payload_bytes)) {
      out.push_back(Batch{i, 0, {}, {}});
      sizes.push_back(0);
    }
    ++out.back().count;
    sizes.back() += size;
  }
  const auto at = [](const char* p) { return reinterpret_cast<uintptr_t>(p); };
  for (size_t k = 0; k < out.size(); ++k) {
    Batch& batch = out[k];
    // Records that lie back to back in `buffer`, each followed there by its "\n" when lines,
    // already are the payload.
    const char* begin = records[batch.first].data();
    const char* end = begin;
    bool in_place = !buffer.empty() && at(begin) >= at(buffer.data()) &&
                    at(begin) <= at(buffer.data() + buffer.size());
    for (size_t j = batch.first; in_place && j < batch.first + batch.count; ++j) {
      if (records[j].data() != end) {
        in_place = false;
        break;
      }
      end += records[j].size();
      if (sep) {
        if (at(end) >= at(buffer.data() + buffer.size()) || *end != '\n') {
          in_place = false;
          break;
        }
        ++end;
      }
    }
    if (in_place && at(end) <= at(buffer.data() + buffer.size())) {
      batch.view = std::string_view(begin, static_cast<size_t>(end - begin));
      continue;
    }
    batch.payload.reserve(sizes[k]);
    for (size_t j = batch.first; j < batch.first + batch.count; ++j) {
      batch.payload += records[j];
      if (sep) batch.payload += '\n';
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Batch>> MakeBatches(const std::vector<std::string>& records,
                                               SplitType split, BatchStrategy strategy,
                                               uint64_t max_payload_bytes) {
  return MakeBatchesOf(records, split, strategy, max_payload_bytes, {});
}

absl::StatusOr<std::vector<Batch>> MakeBatches(const std::vector<std::string_view>& records,
                                               SplitType split, BatchStrategy strategy,
                                               uint64_t max_payload_bytes,
                                               std::string_view buffer) {
  return MakeBatchesOf(records, split, strategy, max_payload_bytes, buffer);
}

absl::StatusOr<JsonPathFilter> JsonPathFilter::Parse(std::string_view expr) {
  JsonPathFilter f;
  std::string_view s = TrimSpace(expr);
  if (s.empty() || s[0] != '$') {
    return Invalid(fmt::format("JSONPath '{}' must start with '$'", std::string(expr)));
  }
  s.remove_prefix(1);
  while (!s.empty()) {
    Step step;
    if (s[0] == '.') {
      s.remove_prefix(1);
      size_t n = 0;
      while (n < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_' || s[n] == '-')) {
        ++n;
      }
      if (n == 0) return Invalid(fmt::format("JSONPath '{}': expected a name after '.'", expr));
      step.key = std::string(s.substr(0, n));
      s.remove_prefix(n);
    } else if (s[0] == '[') {
      size_t close = s.find(']');
      if (close == std::string_view::npos) {
        return Invalid(fmt::format("JSONPath '{}': unclosed '['", std::string(expr)));
      }
      std::string_view body = TrimSpace(s.substr(1, close - 1));
      s.remove_prefix(close + 1);
      if (!body.empty() && (body[0] == '\'' || body[0] == '"')) {
        if (body.size() < 2 || body.back() != body[0]) {
          return Invalid(fmt::format("JSONPath '{}': bad quoted name", std::string(expr)));
        }
        step.key = std::string(body.substr(1, body.size() - 2));
      } else if (size_t colon = body.find(':'); colon != std::string_view::npos) {
        step.kind = Step::kSlice;
        std::string_view a = TrimSpace(body.substr(0, colon));
        std::string_view b = TrimSpace(body.substr(colon + 1));
        if (!a.empty()) {
          ASSIGN_OR_RETURN(step.start, ParseInt(a));
        }
        if (!b.empty()) {
          ASSIGN_OR_RETURN(step.end, ParseInt(b));
        }
      } else {
        step.kind = Step::kIndices;
        size_t pos = 0;
        while (pos <= body.size()) {
          size_t comma = body.find(',', pos);
          if (comma == std::string_view::npos) comma = body.size();
          auto v = ParseInt(body.substr(pos, comma - pos));
          if (!v.ok()) {
            return Invalid(fmt::format("JSONPath '{}': {}", std::string(expr),
                                       std::string(v.status().message())));
          }
          step.indices.push_back(*v);
          pos = comma + 1;
        }
      }
    } else {
      return Invalid(fmt::format("JSONPath '{}': unexpected '{}'", std::string(expr), s[0]));
    }
    f.steps_.push_back(std::move(step));
  }
  return f;
}

absl::StatusOr<Json> JsonPathFilter::ApplyJson(const Json& value) const {
  Json cur = value;
  for (const Step& step : steps_) {
    if (step.kind == Step::kKey) {
      if (!cur.is_object() || !cur.contains(step.key)) {
        return Invalid(fmt::format("the record has no member '{}'", step.key));
      }
      Json next = cur[step.key];
      cur = std::move(next);
      continue;
    }
    if (!cur.is_array()) return Invalid("an index applies only to a JSON array");
    std::vector<size_t> pos =
        Select(step.indices, step.start, step.end, step.kind == Step::kSlice, cur.size());
    if (step.kind == Step::kIndices && step.indices.size() == 1) {
      if (pos.empty()) return Invalid("index out of range");
      Json next = cur[pos[0]];
      cur = std::move(next);
      continue;
    }
    Json next = Json::array();
    for (size_t p : pos) next.push_back(cur[p]);
    cur = std::move(next);
  }
  return cur;
}

absl::StatusOr<std::string> JsonPathFilter::Apply(std::string_view record,
                                                  RecordFormat format) const {
  if (steps_.empty()) return std::string(record);
  if (format == RecordFormat::kJson) {
    auto parsed = ParseJson(record);
    if (!parsed.ok()) return Invalid("the record is not JSON");
    ASSIGN_OR_RETURN(Json out, ApplyJson(*parsed));
    return out.dump();
  }
  if (steps_.size() != 1 || steps_[0].kind == Step::kKey) {
    return Invalid("over CSV records a filter selects columns only, e.g. $[1:] or $[0,2]");
  }
  std::vector<std::string> fields = SplitCsvFields(record);
  const Step& step = steps_[0];
  std::vector<size_t> pos =
      Select(step.indices, step.start, step.end, step.kind == Step::kSlice, fields.size());
  std::string out;
  for (size_t i = 0; i < pos.size(); ++i) {
    if (i > 0) out += ',';
    out += fields[pos[i]];
  }
  return out;
}

std::vector<std::string> SplitCsvFields(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(std::move(cur));
  return out;
}

absl::StatusOr<std::string> JoinRecord(std::string_view input, std::string_view output,
                                       RecordFormat format) {
  output = TrimNewline(output);
  if (format == RecordFormat::kCsv) return fmt::format("{},{}", input, output);
  auto in = ParseJson(input);
  if (!in.ok()) return Invalid("the input record is not JSON, so it cannot be joined");
  auto out_json = ParseJson(output);
  Json out_value = out_json.ok() ? *out_json : Json(std::string(output));
  if (in->is_object()) {
    (*in)["SageMakerOutput"] = std::move(out_value);
  } else if (in->is_array()) {
    in->push_back(std::move(out_value));
  } else {
    return Invalid("only JSON objects and arrays can be joined with the output");
  }
  return in->dump();
}

absl::StatusOr<std::vector<std::string>> SplitOutputRecords(std::string_view response,
                                                            size_t records) {
  if (records == 1) return std::vector<std::string>{std::string(TrimNewline(response))};
  std::vector<std::string> out;
  ASSIGN_OR_RETURN(auto lines, SplitRecords(response, SplitType::kLine));
  for (std::string_view l : lines) out.emplace_back(l);
  if (out.size() != records) {
    return Invalid(fmt::format(
        "the container returned {} output records for {} input records, so outputs cannot be "
        "matched to their inputs",
        out.size(), records));
  }
  return out;
}

void AppendAssembled(std::string* out, std::string_view piece, AssembleWith assemble) {
  out->append(piece);
  if (assemble == AssembleWith::kLine && (piece.empty() || piece.back() != '\n')) {
    out->push_back('\n');
  }
}

std::string OutputKeyFor(std::string_view input_key, std::string_view input_prefix,
                         std::string_view output_prefix) {
  size_t slash = input_prefix.rfind('/');
  std::string_view dir =
      slash == std::string_view::npos ? std::string_view() : input_prefix.substr(0, slash + 1);
  std::string_view rel = input_key;
  if (rel.substr(0, dir.size()) == dir) rel.remove_prefix(dir.size());
  std::string out(output_prefix);
  if (!out.empty() && out.back() != '/') out += '/';
  return fmt::format("{}{}.out", out, rel);
}

absl::StatusOr<std::string> Gunzip(std::string_view data, uint64_t max_bytes) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return Invalid(fmt::format("cannot read gzip data: {}", archive_error_string(a.get())));
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK ||
      archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_GZIP) {
    return Invalid("the object is not gzip-compressed (CompressionType is Gzip)");
  }
  std::string out;
  char buf[65536];
  while (true) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof(buf));
    if (n < 0) {
      return Invalid(fmt::format("corrupt gzip data: {}", archive_error_string(a.get())));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      return Invalid(fmt::format("the decompressed object exceeds {} bytes", max_bytes));
    }
  }
  return out;
}

}  // namespace mercato::jobs::transform
