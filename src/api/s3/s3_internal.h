// Internals of S3Api shared by its implementation files (not a public header):
// the per-request context, the error catalogue, XML helpers, request parsing and the
// streamed-body-to-blob pipeline. Everything here is used by one request thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/s3/s3_api.h"
#include "auth/authenticator.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/status.h"
#include "blob/blob_store.h"
#include "http/message.h"
#include "pugixml.hpp"
#include "store/metadata_store.h"

namespace mercato::api::s3 {

inline constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// ---- errors (s3_errors.cc) ----

// An S3 error status: the code drives both the HTTP status and the XML <Code>.
absl::Status S3Error(std::string_view code, std::string_view message);

struct ErrorInfo {
  int http_status;
  std::string code;
};
// THE mapping from any status (ours, the authenticator's, the store's) to S3's code and
// HTTP status.
ErrorInfo S3ErrorFor(const absl::Status& status);
// S3's <Error> document (or a bodiless response for HEAD).
http::Response ErrorResponse(const absl::Status& status, std::string_view resource,
                             std::string_view request_id, bool head);

// ---- XML (s3_xml.cc) ----

// Starts a document whose root carries S3's namespace.
pugi::xml_node NewXmlRoot(pugi::xml_document& doc, const char* root_name);
// Appends <name>text</name>.
pugi::xml_node AddText(pugi::xml_node parent, const char* name, std::string_view text);
// `<?xml ...?>` + the document, as the response body (Content-Type application/xml).
http::Response XmlResponse(const pugi::xml_document& doc, int status = 200);
// Parses a request body; MalformedXML unless it parses and its root is `root_name`.
absl::Status ParseXml(std::string_view body, const char* root_name, pugi::xml_document& doc);

// ---- request context and helpers (s3_request.cc) ----

struct Ctx {
  const S3Options& options;
  MetadataStore& store;
  BlobStore& blobs;
  const Clock& clock;
  std::shared_mutex& commit_mu;
  const http::Request& request;
  http::BodyReader& body;
  auth::Authenticated auth;
  std::string bucket;  // decoded; empty for the service (GET /)
  std::string key;     // decoded; empty for bucket requests
  std::string request_id;
  std::optional<std::string> buffered_body;  // small XML bodies read before auth

  const std::string& account_id() const { return auth.principal.account_id; }
  std::optional<std::string> Param(std::string_view name) const { return request.QueryParam(name); }
  bool HasParam(std::string_view name) const { return Param(name).has_value(); }
};

bool IsValidBucketName(std::string_view name);

// The bucket must exist and belong to the caller: NoSuchBucket / AccessDenied otherwise.
absl::Status CheckBucketAccess(Ctx& c, std::string_view bucket);
// The same check inside a write transaction (the bucket may be deleted concurrently).
absl::Status CheckBucketInTx(Transaction& tx, Ctx& c, std::string_view bucket);

// The small request body (XML): read once (limit options.max_xml_body), verified against
// x-amz-content-sha256 when that is a hex digest, Content-MD5 and x-amz-checksum-*.
absl::StatusOr<std::string> ReadXmlBody(Ctx& c);

// Stored object headers: x-amz-meta-* and the standard representation headers.
Json CollectMetadata(const http::Request& request);
void EmitMetadata(const Json& metadata, http::Response& response);

// A checksum S3 computes and returns: algorithm as in x-amz-checksum-<alg> (crc32,
// crc32c, sha1, sha256) and its base64 value.
struct Checksum {
  std::string algorithm;
  std::string value;
};
// The base64 checksum of `data` with one of S3's algorithms (lower-case name).
std::string ComputeChecksum(std::string_view algorithm, std::string_view data);
bool IsChecksumAlgorithm(std::string_view algorithm);
std::string ChecksumHeaderName(std::string_view algorithm);  // x-amz-checksum-crc32
std::string ChecksumXmlName(std::string_view algorithm);     // ChecksumCRC32
// Serialized form kept in objects.checksum / multipart_parts.checksum ("" when none).
std::string EncodeChecksum(const std::optional<Checksum>& c);
std::optional<Checksum> DecodeChecksum(std::string_view s);

// A request body streamed into a committed blob. `lock` (shared commit_mu) must stay held
// until the metadata naming the blob commits.
struct StoredBody {
  BlobInfo blob;
  std::string md5;  // binary
  std::optional<Checksum> checksum;
  std::shared_lock<std::shared_mutex> lock;
};
// Reads the body (plain, or aws-chunked), verifies the declared SHA-256, Content-MD5 and
// x-amz-checksum-* (header or trailer), writes it to a new blob and commits it.
// `expected_algorithm` forces a checksum (a multipart upload's algorithm).
absl::StatusOr<StoredBody> StoreBody(Ctx& c, std::string_view expected_algorithm = "");

// Object segments (JSON in objects.segments).
struct Segment {
  std::string blob;
  uint64_t size = 0;
};
std::string EncodeSegments(const std::vector<Segment>& segments);
absl::StatusOr<std::vector<Segment>> DecodeSegments(std::string_view json);

// One row of `objects`.
struct ObjectRecord {
  std::string bucket;
  std::string key;
  uint64_t size = 0;
  std::string etag;  // unquoted
  std::string content_type;
  Json metadata = Json::object();
  std::vector<Segment> segments;
  std::optional<Checksum> checksum;
  int64_t last_modified = 0;  // micros
};
// Creates or replaces the object (within the caller's transaction).
absl::Status UpsertObject(Transaction& tx, const ObjectRecord& o);

// A BodySource over [offset, offset + length) of the concatenated segments.
http::BodySourcePtr NewSegmentSource(BlobStore& blobs, std::vector<Segment> segments,
                                     uint64_t offset, uint64_t length);

int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);
std::string Quote(std::string_view etag);    // "\"" + etag + "\""
std::string Unquote(std::string_view etag);  // strips surrounding quotes if present
// Percent-encodes for encoding-type=url responses (identity otherwise).
std::string MaybeUrlEncode(const Ctx& c, std::string_view s);

// ---- operations (s3_buckets.cc, s3_objects.cc, s3_multipart.cc) ----

absl::StatusOr<http::Response> ListBuckets(Ctx& c);
absl::StatusOr<http::Response> CreateBucket(Ctx& c);
absl::StatusOr<http::Response> DeleteBucket(Ctx& c);
absl::StatusOr<http::Response> HeadBucket(Ctx& c);
absl::StatusOr<http::Response> GetBucketLocation(Ctx& c);
absl::StatusOr<http::Response> GetBucketVersioning(Ctx& c);
absl::StatusOr<http::Response> ListObjects(Ctx& c, bool v2);

absl::StatusOr<http::Response> PutObject(Ctx& c);
absl::StatusOr<http::Response> GetObject(Ctx& c, bool head);
absl::StatusOr<http::Response> DeleteObject(Ctx& c);
absl::StatusOr<http::Response> DeleteObjects(Ctx& c);
absl::StatusOr<http::Response> CopyObject(Ctx& c);

absl::StatusOr<http::Response> CreateMultipartUpload(Ctx& c);
absl::StatusOr<http::Response> UploadPart(Ctx& c);
absl::StatusOr<http::Response> CompleteMultipartUpload(Ctx& c);
absl::StatusOr<http::Response> AbortMultipartUpload(Ctx& c);
absl::StatusOr<http::Response> ListParts(Ctx& c);
absl::StatusOr<http::Response> ListMultipartUploads(Ctx& c);

}  // namespace mercato::api::s3
