// Multipart uploads: create, upload part, complete (one transaction), abort, and the two
// listings. A completed object is the concatenation of its parts' blobs (no copy).
#include <charconv>

#include "api/s3/s3_internal.h"
#include "base/crypto.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::api::s3 {
namespace {

struct Upload {
  std::string upload_id;
  std::string key;
  std::string content_type;
  Json metadata;
  std::string checksum_algorithm;  // lower-case, "" if none
  int64_t initiated_at = 0;
};

absl::Status NoSuchUpload() {
  return S3Error("NoSuchUpload",
                 "The specified upload does not exist. The upload ID may be invalid, or the "
                 "upload may have been aborted or completed.");
}

absl::Status InvalidPart() {
  return S3Error("InvalidPart",
                 "One or more of the specified parts could not be found. The part might not "
                 "have been uploaded, or the specified entity tag might not have matched the "
                 "part's entity tag.");
}

// The upload named by ?uploadId=, which must belong to the request's bucket and key.
template <typename Db>
absl::StatusOr<Upload> LoadUpload(Db& db, const Ctx& c) {
  std::string id = c.Param("uploadId").value_or("");
  ASSIGN_OR_RETURN(SqlRows rows, db.Query("SELECT upload_id, object_key, content_type, metadata, "
                                          "checksum_algorithm, initiated_at FROM "
                                          "multipart_uploads WHERE upload_id = ? AND bucket = ? "
                                          "AND object_key = ?",
                                          {id, c.bucket, c.key}));
  if (rows.empty()) return NoSuchUpload();
  Upload u;
  u.upload_id = rows[0].Text(0);
  u.key = rows[0].Text(1);
  u.content_type = rows[0].Text(2);
  ASSIGN_OR_RETURN(u.metadata, ParseJson(rows[0].Text(3)));
  u.checksum_algorithm = rows[0].Text(4);
  u.initiated_at = rows[0].Int(5);
  return u;
}

absl::StatusOr<int64_t> ParseInt(std::string_view s, std::string_view what, int64_t lo,
                                 int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    return S3Error("InvalidArgument",
                   fmt::format("{} must be an integer between {} and {}, inclusive", what, lo, hi));
  }
  return v;
}

std::string Upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

void AddOwner(pugi::xml_node parent, const char* name, const Ctx& c) {
  pugi::xml_node o = parent.append_child(name);
  AddText(o, "ID", c.account_id());
  AddText(o, "DisplayName", c.account_id());
}

}  // namespace

absl::StatusOr<http::Response> CreateMultipartUpload(Ctx& c) {
  std::string algorithm(c.request.Header("x-amz-checksum-algorithm"));
  for (char& ch : algorithm) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!algorithm.empty() && !IsChecksumAlgorithm(algorithm)) {
    return S3Error("InvalidRequest",
                   fmt::format("Checksum algorithm {} is not supported", algorithm));
  }
  std::string content_type(c.request.Header("content-type"));
  if (content_type.empty()) content_type = "binary/octet-stream";
  std::string upload_id = RandomHex(24);
  RETURN_IF_ERROR(c.store
                      .Exec("INSERT INTO multipart_uploads (upload_id, bucket, object_key, "
                            "account_id, content_type, metadata, checksum_algorithm, "
                            "initiated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            {upload_id, c.bucket, c.key, c.account_id(), content_type,
                             CollectMetadata(c.request).dump(), algorithm, ToMicros(c.clock.Now())})
                      .status());
  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "InitiateMultipartUploadResult");
  AddText(root, "Bucket", c.bucket);
  AddText(root, "Key", c.key);
  AddText(root, "UploadId", upload_id);
  http::Response r = XmlResponse(doc);
  if (!algorithm.empty()) {
    r.SetHeader("x-amz-checksum-algorithm", Upper(algorithm));
    r.SetHeader("x-amz-checksum-type", "COMPOSITE");
  }
  return r;
}

absl::StatusOr<http::Response> UploadPart(Ctx& c) {
  ASSIGN_OR_RETURN(int64_t part_number,
                   ParseInt(c.Param("partNumber").value_or(""), "Part number", 1, 10000));
  ASSIGN_OR_RETURN(Upload upload, LoadUpload(c.store, c));
  ASSIGN_OR_RETURN(StoredBody body, StoreBody(c, upload.checksum_algorithm));
  std::string etag = HexEncode(body.md5);
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  RETURN_IF_ERROR(LoadUpload(*tx, c).status());  // not completed or aborted meanwhile
  RETURN_IF_ERROR(
      tx->Exec("INSERT INTO multipart_parts (upload_id, part_number, blob_id, size, etag, "
               "checksum, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
               "(upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id, "
               "size = excluded.size, etag = excluded.etag, checksum = excluded.checksum, "
               "last_modified = excluded.last_modified",
               {upload.upload_id, part_number, body.blob.id, static_cast<int64_t>(body.blob.size),
                etag, EncodeChecksum(body.checksum), ToMicros(c.clock.Now())})
          .status());
  RETURN_IF_ERROR(tx->Commit());
  http::Response r;
  r.SetHeader("ETag", Quote(etag));
  if (body.checksum)
    r.SetHeader(ChecksumHeaderName(body.checksum->algorithm), body.checksum->value);
  return r;
}

absl::StatusOr<http::Response> CompleteMultipartUpload(Ctx& c) {
  ASSIGN_OR_RETURN(std::string body, ReadXmlBody(c));
  pugi::xml_document in;
  RETURN_IF_ERROR(ParseXml(body, "CompleteMultipartUpload", in));
  struct Listed {
    int64_t number;
    std::string etag;
    pugi::xml_node node;
  };
  std::vector<Listed> listed;
  for (pugi::xml_node p : in.document_element().children("Part")) {
    auto number = ParseInt(p.child_value("PartNumber"), "Part number", 1, 10000);
    if (!number.ok()) return ParseXml("", "CompleteMultipartUpload", in);  // MalformedXML
    listed.push_back({*number, Unquote(p.child_value("ETag")), p});
  }
  if (listed.empty()) {
    return S3Error("MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema");
  }
  for (size_t i = 1; i < listed.size(); ++i) {
    if (listed[i].number <= listed[i - 1].number) {
      return S3Error("InvalidPartOrder",
                     "The list of parts was not in ascending order. Parts must be ordered by "
                     "part number.");
    }
  }

  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  ASSIGN_OR_RETURN(Upload upload, LoadUpload(*tx, c));
  ASSIGN_OR_RETURN(SqlRows rows, tx->Query("SELECT part_number, blob_id, size, etag, checksum "
                                           "FROM multipart_parts WHERE upload_id = ?",
                                           {upload.upload_id}));
  std::map<int64_t, const SqlRow*> parts;
  for (const SqlRow& row : rows) parts[row.Int(0)] = &row;

  ObjectRecord o;
  o.bucket = c.bucket;
  o.key = c.key;
  o.content_type = upload.content_type;
  o.metadata = upload.metadata;
  std::string md5s, sums;
  bool all_sums = !upload.checksum_algorithm.empty();
  for (const Listed& l : listed) {
    auto it = parts.find(l.number);
    if (it == parts.end() || it->second->Text(3) != l.etag) return InvalidPart();
  }
  for (size_t i = 0; i < listed.size(); ++i) {
    const SqlRow& part = *parts[listed[i].number];
    uint64_t size = static_cast<uint64_t>(part.Int(2));
    if (i + 1 < listed.size() && size < c.options.min_part_size) {
      return S3Error("EntityTooSmall",
                     "Your proposed upload is smaller than the minimum allowed object size.");
    }
    std::optional<Checksum> sum = DecodeChecksum(part.Text(4));
    if (sum) {
      std::string sent = listed[i].node.child_value(ChecksumXmlName(sum->algorithm).c_str());
      if (!sent.empty() && sent != sum->value) return InvalidPart();
      auto raw = Base64Decode(sum->value);
      if (raw.ok()) sums += *raw;
    } else {
      all_sums = false;
    }
    ASSIGN_OR_RETURN(std::string md5, HexDecode(part.Text(3)));
    md5s += md5;
    if (size > 0) o.segments.push_back({part.Text(1), size});
    o.size += size;
  }
  o.etag = fmt::format("{}-{}", HexEncode(Md5(md5s)), listed.size());
  if (all_sums) {
    o.checksum = Checksum{
        upload.checksum_algorithm,
        fmt::format("{}-{}", ComputeChecksum(upload.checksum_algorithm, sums), listed.size())};
  }
  o.last_modified = ToMicros(c.clock.Now());
  RETURN_IF_ERROR(CheckBucketInTx(*tx, c, c.bucket));
  RETURN_IF_ERROR(UpsertObject(*tx, o));
  RETURN_IF_ERROR(
      tx->Exec("DELETE FROM multipart_parts WHERE upload_id = ?", {upload.upload_id}).status());
  RETURN_IF_ERROR(
      tx->Exec("DELETE FROM multipart_uploads WHERE upload_id = ?", {upload.upload_id}).status());
  RETURN_IF_ERROR(tx->Commit());

  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "CompleteMultipartUploadResult");
  AddText(root, "Location", fmt::format("/{}/{}", c.bucket, http::UriEncode(c.key, true)));
  AddText(root, "Bucket", c.bucket);
  AddText(root, "Key", c.key);
  AddText(root, "ETag", Quote(o.etag));
  if (o.checksum) {
    AddText(root, ChecksumXmlName(o.checksum->algorithm).c_str(), o.checksum->value);
    AddText(root, "ChecksumType", "COMPOSITE");
  }
  return XmlResponse(doc);
}

absl::StatusOr<http::Response> AbortMultipartUpload(Ctx& c) {
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  ASSIGN_OR_RETURN(Upload upload, LoadUpload(*tx, c));
  RETURN_IF_ERROR(
      tx->Exec("DELETE FROM multipart_parts WHERE upload_id = ?", {upload.upload_id}).status());
  RETURN_IF_ERROR(
      tx->Exec("DELETE FROM multipart_uploads WHERE upload_id = ?", {upload.upload_id}).status());
  RETURN_IF_ERROR(tx->Commit());
  http::Response r;
  r.status = 204;
  return r;
}

absl::StatusOr<http::Response> ListParts(Ctx& c) {
  ASSIGN_OR_RETURN(Upload upload, LoadUpload(c.store, c));
  int64_t max_parts = 1000, marker = 0;
  if (auto v = c.Param("max-parts")) {
    ASSIGN_OR_RETURN(max_parts, ParseInt(*v, "max-parts", 0, 1 << 30));
  }
  max_parts = std::min<int64_t>(max_parts, 1000);
  if (auto v = c.Param("part-number-marker")) {
    ASSIGN_OR_RETURN(marker, ParseInt(*v, "part-number-marker", 0, 10000));
  }
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.store.Query("SELECT part_number, size, etag, checksum, last_modified FROM "
                                 "multipart_parts WHERE upload_id = ? AND part_number > ? "
                                 "ORDER BY part_number LIMIT ?",
                                 {upload.upload_id, marker, max_parts + 1}));
  bool truncated = static_cast<int64_t>(rows.size()) > max_parts;
  if (truncated) rows.erase(rows.begin() + max_parts, rows.end());
  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "ListPartsResult");
  AddText(root, "Bucket", c.bucket);
  AddText(root, "Key", c.key);
  AddText(root, "UploadId", upload.upload_id);
  AddOwner(root, "Initiator", c);
  AddOwner(root, "Owner", c);
  AddText(root, "StorageClass", "STANDARD");
  AddText(root, "PartNumberMarker", std::to_string(marker));
  if (!rows.empty()) AddText(root, "NextPartNumberMarker", std::to_string(rows.back().Int(0)));
  AddText(root, "MaxParts", std::to_string(max_parts));
  AddText(root, "IsTruncated", truncated ? "true" : "false");
  if (!upload.checksum_algorithm.empty()) {
    AddText(root, "ChecksumAlgorithm", Upper(upload.checksum_algorithm));
  }
  for (const SqlRow& row : rows) {
    pugi::xml_node p = root.append_child("Part");
    AddText(p, "PartNumber", std::to_string(row.Int(0)));
    AddText(p, "LastModified", FormatIso8601Millis(FromMicros(row.Int(4))));
    AddText(p, "ETag", Quote(row.Text(2)));
    AddText(p, "Size", std::to_string(row.Int(1)));
    if (auto sum = DecodeChecksum(row.Text(3))) {
      AddText(p, ChecksumXmlName(sum->algorithm).c_str(), sum->value);
    }
  }
  return XmlResponse(doc);
}

absl::StatusOr<http::Response> ListMultipartUploads(Ctx& c) {
  std::string prefix = c.Param("prefix").value_or("");
  std::string key_marker = c.Param("key-marker").value_or("");
  std::string id_marker = c.Param("upload-id-marker").value_or("");
  int64_t max_uploads = 1000;
  if (auto v = c.Param("max-uploads")) {
    ASSIGN_OR_RETURN(max_uploads, ParseInt(*v, "max-uploads", 0, 1 << 30));
  }
  max_uploads = std::min<int64_t>(max_uploads, 1000);
  ASSIGN_OR_RETURN(SqlRows rows,
                   c.store.Query("SELECT object_key, upload_id, initiated_at, checksum_algorithm "
                                 "FROM multipart_uploads WHERE bucket = ? AND object_key >= ? "
                                 "ORDER BY object_key, upload_id",
                                 {c.bucket, key_marker}));
  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "ListMultipartUploadsResult");
  AddText(root, "Bucket", c.bucket);
  AddText(root, "KeyMarker", key_marker);
  AddText(root, "UploadIdMarker", id_marker);
  if (!prefix.empty()) AddText(root, "Prefix", prefix);
  AddText(root, "MaxUploads", std::to_string(max_uploads));
  int64_t n = 0;
  bool truncated = false;
  std::string next_key, next_id;
  std::vector<const SqlRow*> shown;
  for (const SqlRow& row : rows) {
    std::string key = row.Text(0), id = row.Text(1);
    if (!key.starts_with(prefix)) continue;
    // After the marker: keys past key-marker, or the same key with a later upload id.
    if (!key_marker.empty() &&
        (key < key_marker || (key == key_marker && (id_marker.empty() || id <= id_marker)))) {
      continue;
    }
    if (n == max_uploads) {
      truncated = true;
      break;
    }
    shown.push_back(&row);
    next_key = key;
    next_id = id;
    ++n;
  }
  if (truncated) {
    AddText(root, "NextKeyMarker", next_key);
    AddText(root, "NextUploadIdMarker", next_id);
  }
  AddText(root, "IsTruncated", truncated ? "true" : "false");
  for (const SqlRow* row : shown) {
    pugi::xml_node u = root.append_child("Upload");
    AddText(u, "Key", row->Text(0));
    AddText(u, "UploadId", row->Text(1));
    AddOwner(u, "Initiator", c);
    AddOwner(u, "Owner", c);
    AddText(u, "StorageClass", "STANDARD");
    AddText(u, "Initiated", FormatIso8601Millis(FromMicros(row->Int(2))));
    if (!row->Text(3).empty()) AddText(u, "ChecksumAlgorithm", Upper(row->Text(3)));
  }
  return XmlResponse(doc);
}

}  // namespace mercato::api::s3
