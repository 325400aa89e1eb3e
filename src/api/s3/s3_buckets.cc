// Bucket operations and object listings (ListObjects V1 and V2).
#include <charconv>

#include "api/s3/s3_internal.h"
#include "base/crypto.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::api::s3 {
namespace {

absl::StatusOr<int64_t> IntParam(const Ctx& c, std::string_view name, int64_t dflt, int64_t cap) {
  auto v = c.Param(name);
  if (!v) return dflt;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < 0) {
    return S3Error("InvalidArgument", fmt::format("Provided {} not an integer or within "
                                                  "integer range",
                                                  name));
  }
  return std::min(out, cap);
}

// The smallest string greater than every string starting with `s` (empty if none).
std::string Successor(std::string s) {
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

struct Entry {
  bool is_prefix = false;
  std::string key;
  int64_t size = 0;
  std::string etag;
  int64_t last_modified = 0;
  std::string checksum;
};

// Lists up to max_keys + 1 entries (keys and common prefixes) of `bucket` after the
// resume point; one extra tells whether the listing is truncated.
absl::StatusOr<std::vector<Entry>> Collect(Ctx& c, const std::string& prefix,
                                           const std::string& delimiter, std::string after,
                                           std::string from, int64_t max_keys) {
  std::vector<Entry> entries;
  from = std::max(from, prefix);
  constexpr int64_t kBatch = 1000;
  while (static_cast<int64_t>(entries.size()) <= max_keys) {
    ASSIGN_OR_RETURN(SqlRows rows,
                     c.store.Query("SELECT object_key, size, etag, last_modified, checksum "
                                   "FROM objects WHERE bucket = ? AND object_key > ? AND "
                                   "object_key >= ? ORDER BY object_key LIMIT ?",
                                   {c.bucket, after, from, kBatch}));
    bool requery = false;
    for (const SqlRow& row : rows) {
      std::string key = row.Text(0);
      if (!key.starts_with(prefix)) return entries;  // sorted: past the prefix range
      size_t pos = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
      if (pos != std::string::npos) {
        Entry e;
        e.is_prefix = true;
        e.key = key.substr(0, pos + delimiter.size());
        from = Successor(e.key);
        entries.push_back(std::move(e));
        if (from.empty()) return entries;
        requery = true;  // skip every other key under this common prefix
        break;
      }
      entries.push_back({false, key, row.Int(1), row.Text(2), row.Int(3), row.Text(4)});
      after = key;
      if (static_cast<int64_t>(entries.size()) > max_keys) return entries;
    }
    if (!requery && static_cast<int64_t>(rows.size()) < kBatch) break;
  }
  return entries;
}

void AddContents(const Ctx& c, pugi::xml_node root, const Entry& e, bool owner) {
  pugi::xml_node n = root.append_child("Contents");
  AddText(n, "Key", MaybeUrlEncode(c, e.key));
  AddText(n, "LastModified", FormatIso8601Millis(FromMicros(e.last_modified)));
  AddText(n, "ETag", Quote(e.etag));
  if (auto sum = DecodeChecksum(e.checksum)) {
    std::string alg = sum->algorithm;
    for (char& ch : alg) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    AddText(n, "ChecksumAlgorithm", alg);
  }
  AddText(n, "Size", std::to_string(e.size));
  if (owner) {
    pugi::xml_node o = n.append_child("Owner");
    AddText(o, "ID", c.account_id());
    AddText(o, "DisplayName", c.account_id());
  }
  AddText(n, "StorageClass", "STANDARD");
}

}  // namespace

absl::StatusOr<http::Response> ListBuckets(Ctx& c) {
  std::string prefix = c.Param("prefix").value_or("");
  ASSIGN_OR_RETURN(int64_t max_buckets, IntParam(c, "max-buckets", 10000, 10000));
  std::string after;
  if (auto token = c.Param("continuation-token")) {
    auto decoded = Base64Decode(*token);
    if (!decoded.ok()) return S3Error("InvalidArgument", "The continuation token is invalid.");
    after = *decoded;
  }
  ASSIGN_OR_RETURN(SqlRows rows, c.store.Query("SELECT name, created_at, region FROM buckets WHERE "
                                               "account_id = ? AND name > ? ORDER BY name",
                                               {c.account_id(), after}));
  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "ListAllMyBucketsResult");
  pugi::xml_node owner = root.append_child("Owner");
  AddText(owner, "ID", c.account_id());
  AddText(owner, "DisplayName", c.auth.principal.user_name);
  pugi::xml_node buckets = root.append_child("Buckets");
  int64_t n = 0;
  std::string last;
  bool truncated = false;
  for (const SqlRow& row : rows) {
    std::string name = row.Text(0);
    if (!name.starts_with(prefix)) continue;
    if (n == max_buckets) {
      truncated = true;
      break;
    }
    pugi::xml_node b = buckets.append_child("Bucket");
    AddText(b, "Name", name);
    AddText(b, "CreationDate", FormatIso8601Millis(FromMicros(row.Int(1))));
    AddText(b, "BucketRegion", row.Text(2));
    last = name;
    ++n;
  }
  if (truncated) AddText(root, "ContinuationToken", Base64Encode(last));
  if (!prefix.empty()) AddText(root, "Prefix", prefix);
  return XmlResponse(doc);
}

absl::StatusOr<http::Response> CreateBucket(Ctx& c) {
  if (!IsValidBucketName(c.bucket)) {
    return S3Error("InvalidBucketName", "The specified bucket is not valid.");
  }
  ASSIGN_OR_RETURN(std::string body, ReadXmlBody(c));
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    pugi::xml_document doc;
    RETURN_IF_ERROR(ParseXml(body, "CreateBucketConfiguration", doc));
    std::string location = doc.document_element().child_value("LocationConstraint");
    if (!location.empty() && location != c.options.region) {
      return S3Error("IllegalLocationConstraintException",
                     fmt::format("The {} location constraint is incompatible for the region "
                                 "specific endpoint this request was sent to.",
                                 location));
    }
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  ASSIGN_OR_RETURN(SqlRows rows,
                   tx->Query("SELECT account_id FROM buckets WHERE name = ?", {c.bucket}));
  if (!rows.empty()) {
    if (rows[0].Text(0) == c.account_id()) {
      return S3Error("BucketAlreadyOwnedByYou",
                     "Your previous request to create the named bucket succeeded and you "
                     "already own it.");
    }
    return S3Error("BucketAlreadyExists",
                   "The requested bucket name is not available. The bucket namespace is shared "
                   "by all users of the system. Please select a different name and try again.");
  }
  RETURN_IF_ERROR(tx->Exec("INSERT INTO buckets (name, account_id, region, created_at) "
                           "VALUES (?, ?, ?, ?)",
                           {c.bucket, c.account_id(), c.options.region, ToMicros(c.clock.Now())})
                      .status());
  RETURN_IF_ERROR(tx->Commit());
  http::Response r;
  r.SetHeader("Location", "/" + c.bucket);
  return r;
}

absl::StatusOr<http::Response> DeleteBucket(Ctx& c) {
  ASSIGN_OR_RETURN(TransactionPtr tx, c.store.Begin());
  RETURN_IF_ERROR(CheckBucketInTx(*tx, c, c.bucket));
  ASSIGN_OR_RETURN(SqlRows objects,
                   tx->Query("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", {c.bucket}));
  ASSIGN_OR_RETURN(
      SqlRows uploads,
      tx->Query("SELECT 1 FROM multipart_uploads WHERE bucket = ? LIMIT 1", {c.bucket}));
  if (!objects.empty() || !uploads.empty()) {
    return S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty");
  }
  RETURN_IF_ERROR(tx->Exec("DELETE FROM buckets WHERE name = ?", {c.bucket}).status());
  RETURN_IF_ERROR(tx->Commit());
  http::Response r;
  r.status = 204;
  return r;
}

absl::StatusOr<http::Response> HeadBucket(Ctx& c) {
  http::Response r;
  r.SetHeader("x-amz-bucket-region", c.options.region);
  r.head_content_length = 0;
  return r;
}

absl::StatusOr<http::Response> GetBucketLocation(Ctx& c) {
  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "LocationConstraint");
  root.append_child(pugi::node_pcdata).set_value(c.options.region.c_str());
  return XmlResponse(doc);
}

absl::StatusOr<http::Response> GetBucketVersioning(Ctx& c) {
  pugi::xml_document doc;
  NewXmlRoot(doc, "VersioningConfiguration");
  return XmlResponse(doc);
}

absl::StatusOr<http::Response> ListObjects(Ctx& c, bool v2) {
  std::string prefix = c.Param("prefix").value_or("");
  std::string delimiter = c.Param("delimiter").value_or("");
  ASSIGN_OR_RETURN(int64_t max_keys, IntParam(c, "max-keys", 1000, 1000));
  auto encoding = c.Param("encoding-type");
  if (encoding && *encoding != "url") {
    return S3Error("InvalidArgument", "Invalid Encoding Method specified in Request");
  }
  // Resume point: the last key returned, or a common prefix whose keys are all skipped.
  std::string resume;
  std::optional<std::string> token = v2 ? c.Param("continuation-token") : std::nullopt;
  if (token) {
    auto decoded = Base64Decode(*token);
    if (!decoded.ok() || decoded->empty()) {
      return S3Error("InvalidArgument", "The continuation token provided is incorrect");
    }
    resume = *decoded;
  } else if (!v2) {
    resume = c.Param("marker").value_or("");
  }
  std::string start_after = v2 ? c.Param("start-after").value_or("") : "";
  std::string after = std::max(resume, start_after);
  std::string from;
  if (!delimiter.empty() && !resume.empty() && resume == after && resume.starts_with(prefix) &&
      resume.ends_with(delimiter) &&
      resume.find(delimiter, prefix.size()) == resume.size() - delimiter.size()) {
    // Resuming after a common prefix: continue past every key it stands for.
    from = Successor(resume);
    if (from.empty()) return S3Error("InvalidArgument", "The marker provided is incorrect");
  }
  ASSIGN_OR_RETURN(std::vector<Entry> entries,
                   Collect(c, prefix, delimiter, after, from, max_keys));
  bool truncated = static_cast<int64_t>(entries.size()) > max_keys;
  if (truncated) entries.resize(max_keys);

  pugi::xml_document doc;
  pugi::xml_node root = NewXmlRoot(doc, "ListBucketResult");
  AddText(root, "Name", c.bucket);
  AddText(root, "Prefix", MaybeUrlEncode(c, prefix));
  if (!v2) AddText(root, "Marker", MaybeUrlEncode(c, resume));
  AddText(root, "MaxKeys", std::to_string(max_keys));
  if (!delimiter.empty()) AddText(root, "Delimiter", MaybeUrlEncode(c, delimiter));
  if (encoding) AddText(root, "EncodingType", *encoding);
  AddText(root, "IsTruncated", truncated ? "true" : "false");
  std::string last = entries.empty() ? "" : entries.back().key;
  if (v2) {
    AddText(root, "KeyCount", std::to_string(entries.size()));
    if (token) AddText(root, "ContinuationToken", *token);
    if (truncated) AddText(root, "NextContinuationToken", Base64Encode(last));
    if (!start_after.empty()) AddText(root, "StartAfter", MaybeUrlEncode(c, start_after));
  } else if (truncated && !delimiter.empty()) {
    AddText(root, "NextMarker", MaybeUrlEncode(c, last));
  }
  bool owner = !v2 || c.Param("fetch-owner").value_or("") == "true";
  for (const Entry& e : entries) {
    if (e.is_prefix) continue;
    AddContents(c, root, e, owner);
  }
  for (const Entry& e : entries) {
    if (!e.is_prefix) continue;
    AddText(root.append_child("CommonPrefixes"), "Prefix", MaybeUrlEncode(c, e.key));
  }
  return XmlResponse(doc);
}

}  // namespace mercato::api::s3
