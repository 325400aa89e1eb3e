// Object operations: PutObject, GetObject/HeadObject (ranges, conditionals), DeleteObject,
// DeleteObjects and CopyObject.
#include <charconv>

#include "api/s3/s3_internal.h"
#include "base/crypto.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::api::s3 {
namespace {

constexpr std::string_view kSelectObject =
    "SELECT bucket, object_key, size, etag, content_type, metadata, segments, checksum, "
    "last_modified FROM objects WHERE bucket = ? AND object_key = ?";

absl::StatusOr<std::optional<ObjectRecord>> ObjectFromRows(const absl::StatusOr<SqlRows>& rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  const SqlRow& r = (*rows)[0];
  ObjectRecord o;
  o.bucket = r.Text(0);
  o.key = r.Text(1);
  o.size = static_cast<uint64_t>(r.Int(2));
  o.etag = r.Text(3);
  o.content_type = r.Text(4);
  ASSIGN_OR_RETURN(o.metadata, ParseJson(r.Text(5)));
  ASSIGN_OR_RETURN(o.segments, DecodeSegments(r.Text(6)));
  o.checksum = DecodeChecksum(r.Text(7));
  o.last_modified = r.Int(8);
  return o;
}

absl::Status NoSuchKey() { return S3Error("NoSuchKey", "The specified key does not exist."); }

std::string ContentTypeOf(const http::Request& req) {
  std::string_view ct = req.Header("content-type");
  return ct.empty() ? "binary/octet-stream" : std::string(ct);
}

bool EtagMatches(std::string_view header, std::string_view etag) {
  // A list of entity tags, or "*".
  size_t start = 0;
  while (start < header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string tag = Unquote(header.substr(start, comma - start));
    if (tag.starts_with("W/")) tag = Unquote(tag.substr(2));
    if (tag == "*" || tag == etag) return true;
    start = comma + 1;
  }
  return false;
}

absl::Time Seconds(int64_t micros) { return absl::FromUnixSeconds(micros / 1000000); }

// Evaluates If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since
// (304, reported as true).
absl::StatusOr<bool> NotModified(const http::Request& req, const ObjectRecord& o) {
  absl::Time lm = Seconds(o.last_modified);
  std::string_view if_match = req.Header("if-match");
  if (!if_match.empty()) {
    if (!EtagMatches(if_match, o.etag)) {
      return S3Error("PreconditionFailed",
                     "At least one of the pre-conditions you specified "
                     "did not hold");
    }
  } else if (auto t = ParseHttpDate(req.Header("if-unmodified-since")); t.ok() && lm > *t) {
    return S3Error("PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  }
  std::string_view if_none = req.Header("if-none-match");
  if (!if_none.empty()) return EtagMatches(if_none, o.etag);
  if (auto t = ParseHttpDate(req.Header("if-modified-since")); t.ok() && lm <= *t) return true;
  return false;
}

struct ByteRange {
  uint64_t first;
  uint64_t last;  // inclusive
};

// Range: bytes=a-b | a- | -n. Syntax S3 does not honour (several ranges, other units) is
// ignored and the whole object is returned, as S3 does.
absl::StatusOr<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  if (!header.starts_with("bytes=")) return std::nullopt;
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s) -> std::optional<uint64_t> {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  };
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto unsatisfiable = S3Error("InvalidRange", "The requested range is not satisfiable");
  if (a.empty()) {
    auto n = num(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return unsatisfiable;
    return ByteRange{size - std::min(*n, size), size - 1};
  }
  auto first = num(a);
  if (!first) return std::nullopt;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = num(b);
    if (!l || *l < *first) return std::nullopt;
    last = std::min(*l, last);
  }
  if (*first >= size) return unsatisfiable;
  return ByteRange{*first, last};
}

void AddObjectHeaders(const ObjectRecord& o, http::Response& r) {
  r.SetHeader("ETag", Quote(o.etag));
  r.SetHeader("Last-Modified", FormatHttpDate(Seconds(o.last_modified)));
  r.SetHeader("Accept-Ranges", "bytes");
}

void AddChecksumHeader(const std::optional<Checksum>& sum, http::Response& r) {
  if (!sum) return;
  r.SetHeader(ChecksumHeaderName(sum->algorithm), sum->value);
  r.SetHeader("x-amz-checksum-type",
              sum->value.find('-') != std::string::npos ? "COMPOSITE" : "FULL_OBJECT");
}

}  // namespace

absl::Status UpsertObject(Transaction& tx, const ObjectRecord& o) {
  return tx
      .Exec(
          "INSERT INTO objects (bucket, object_key, size, etag, content_type, metadata, "
          "segments, checksum, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (bucket, object_key) DO UPDATE SET size = excluded.size, "
          "etag = excluded.etag, content_type = excluded.content_type, "
          "metadata = excluded.metadata, segments = excluded.segments, "
          "checksum = excluded.checksum, last_modified = excluded.last_modified",
          {o.bucket, o.key, static_cast<int64_t>(o.size), o.etag, o.content_type, o.metadata.dump(),
           EncodeSegments(o.segments), EncodeChecksum(o.checksum), o.last_modified})
      .status();
}

absl::StatusOr<http::Response> PutObject(Ctx& c) {
  ASSIGN_OR_RETURN(StoredBody body, StoreBody(c));
  ObjectRecord o;
  o.bucket = c.bucket;
  o.key = c.key;
  o.size = body.blob.size;
  o.etag = HexEncode(body.md5);
  o.content_type = ContentTypeOf(c.request);
  o.metadata = CollectMetadata(c.request);
  if (body.blob.size > 0) o.segments.push_back({body.blob.id, body.blob.size});
  o.checksum = body.checksum;
  o.last_modified = ToMicros(c.clock.Now());
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  RETURN_IF_ERROR(CheckBucketInTx(*tx, c, c.bucket));
  RETURN_IF_ERROR(UpsertObject(*tx, o));
  RETURN_IF_ERROR(tx->Commit());
  http::Response r;
  r.SetHeader("ETag", Quote(o.etag));
  if (o.checksum) {
    r.SetHeader(ChecksumHeaderName(o.checksum->algorithm), o.checksum->value);
    r.SetHeader("x-amz-checksum-type", "FULL_OBJECT");
  }
  return r;
}

absl::StatusOr<http::Response> GetObject(Ctx& c, bool head) {
  ASSIGN_OR_RETURN(auto found, ObjectFromRows(c.store.Query(kSelectObject, {c.bucket, c.key})));
  if (!found) return NoSuchKey();
  const ObjectRecord& o = *found;
  ASSIGN_OR_RETURN(bool not_modified, NotModified(c.request, o));
  http::Response r;
  AddObjectHeaders(o, r);
  if (not_modified) {
    r.status = 304;
    r.head_content_length = 0;
    return r;
  }
  ASSIGN_OR_RETURN(std::optional<ByteRange> range, ParseRange(c.request.Header("range"), o.size));
  uint64_t first = range ? range->first : 0;
  uint64_t length = range ? range->last - range->first + 1 : o.size;
  if (range) {
    r.status = 206;
    r.SetHeader("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->last, o.size));
  }
  r.SetHeader("Content-Type", o.content_type);
  EmitMetadata(o.metadata, r);
  if (!range && c.request.Header("x-amz-checksum-mode") == "ENABLED") {
    AddChecksumHeader(o.checksum, r);
  }
  // Presigned downloads may override representation headers.
  static const std::pair<const char*, const char*> kOverrides[] = {
      {"response-content-type", "Content-Type"},
      {"response-content-disposition", "Content-Disposition"},
      {"response-content-encoding", "Content-Encoding"},
      {"response-content-language", "Content-Language"},
      {"response-cache-control", "Cache-Control"},
      {"response-expires", "Expires"}};
  for (const auto& [param, header] : kOverrides) {
    if (auto v = c.Param(param)) r.SetHeader(header, *v);
  }
  if (head) {
    r.head_content_length = length;
    return r;
  }
  r.stream = NewSegmentSource(c.blobs, o.segments, first, length);
  return r;
}

absl::StatusOr<http::Response> DeleteObject(Ctx& c) {
  RETURN_IF_ERROR(
      c.store.Exec("DELETE FROM objects WHERE bucket = ? AND object_key = ?", {c.bucket, c.key})
          .status());
  http::Response r;
  r.status = 204;
  return r;
}

absl::StatusOr<http::Response> DeleteObjects(Ctx& c) {
  ASSIGN_OR_RETURN(std::string body, ReadXmlBody(c));
  pugi::xml_document in;
  RETURN_IF_ERROR(ParseXml(body, "Delete", in));
  pugi::xml_node root = in.document_element();
  bool quiet = std::string_view(root.child_value("Quiet")) == "true";
  std::vector<std::string> keys;
  for (pugi::xml_node obj : root.children("Object")) {
    pugi::xml_node key = obj.child("Key");
    if (!key) return ParseXml("", "Delete", in);  // MalformedXML
    keys.emplace_back(key.child_value());
  }
  if (keys.empty() || keys.size() > 1000) {
    return S3Error("MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema");
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  RETURN_IF_ERROR(CheckBucketInTx(*tx, c, c.bucket));
  for (const std::string& key : keys) {
    RETURN_IF_ERROR(
        tx->Exec("DELETE FROM objects WHERE bucket = ? AND object_key = ?", {c.bucket, key})
            .status());
  }
  RETURN_IF_ERROR(tx->Commit());
  pugi::xml_document doc;
  pugi::xml_node out = NewXmlRoot(doc, "DeleteResult");
  if (!quiet) {
    for (const std::string& key : keys) AddText(out.append_child("Deleted"), "Key", key);
  }
  return XmlResponse(doc);
}

absl::StatusOr<http::Response> CopyObject(Ctx& c) {
  std::string_view raw = c.request.Header("x-amz-copy-source");
  std::string_view without_version = raw.substr(0, raw.find('?'));
  if (raw.find("?versionId=") != std::string_view::npos && !raw.ends_with("?versionId=null")) {
    return S3Error("NotImplemented", "Object versions are not supported");
  }
  std::string source = http::PercentDecode(without_version);
  if (source.starts_with('/')) source.erase(0, 1);
  size_t slash = source.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == source.size()) {
    return S3Error("InvalidArgument",
                   "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  }
  std::string src_bucket = source.substr(0, slash), src_key = source.substr(slash + 1);
  RETURN_IF_ERROR(CheckBucketAccess(c, src_bucket));

  std::string directive(c.request.Header("x-amz-metadata-directive"));
  if (directive.empty()) directive = "COPY";
  if (directive != "COPY" && directive != "REPLACE") {
    return S3Error("InvalidArgument", "Unknown metadata directive.");
  }
  if (src_bucket == c.bucket && src_key == c.key && directive == "COPY") {
    return S3Error("InvalidRequest",
                   "This copy request is illegal because it is trying to copy an object to "
                   "itself without changing the object's metadata, storage class, website "
                   "redirect location or encryption attributes.");
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  RETURN_IF_ERROR(CheckBucketInTx(*tx, c, c.bucket));
  ASSIGN_OR_RETURN(auto found, ObjectFromRows(tx->Query(kSelectObject, {src_bucket, src_key})));
  if (!found) return NoSuchKey();
  ObjectRecord o = std::move(*found);
  std::string_view if_match = c.request.Header("x-amz-copy-source-if-match");
  std::string_view if_none = c.request.Header("x-amz-copy-source-if-none-match");
  if ((!if_match.empty() && !EtagMatches(if_match, o.etag)) ||
      (!if_none.empty() && EtagMatches(if_none, o.etag))) {
    return S3Error("PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  }
  o.bucket = c.bucket;
  o.key = c.key;
  o.last_modified = ToMicros(c.clock.Now());
  if (directive == "REPLACE") {
    o.content_type = ContentTypeOf(c.request);
    o.metadata = CollectMetadata(c.request);
  }
  // Only metadata is copied: the new object names the same (immutable) blobs.
  RETURN_IF_ERROR(UpsertObject(*tx, o));
  RETURN_IF_ERROR(tx->Commit());

  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "CopyObjectResult");
  AddText(root, "LastModified", FormatIso8601Millis(FromMicros(o.last_modified)));
  AddText(root, "ETag", Quote(o.etag));
  if (o.checksum && o.checksum->value.find('-') == std::string::npos) {
    AddText(root, ChecksumXmlName(o.checksum->algorithm).c_str(), o.checksum->value);
  }
  return XmlResponse(doc);
}

}  // namespace mercato::api::s3
