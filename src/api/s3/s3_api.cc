// S3Api: authentication, routing by method + path + subresource, the error boundary, and
// garbage collection of unreferenced blobs.
#include "api/s3/s3_api.h"

#include <set>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "api/s3/s3_internal.h"
#include "base/crypto.h"
#include "fmt/format.h"
#include "http/sigv4.h"
#include "spdlog/spdlog.h"

namespace mercato::api::s3 {
namespace {

using Handler = absl::StatusOr<http::Response> (*)(Ctx&);

absl::StatusOr<http::Response> ListObjectsV1(Ctx& c) { return ListObjects(c, false); }
absl::StatusOr<http::Response> ListObjectsV2(Ctx& c) { return ListObjects(c, true); }
absl::StatusOr<http::Response> GetObjectOnly(Ctx& c) { return GetObject(c, false); }
absl::StatusOr<http::Response> HeadObject(Ctx& c) { return GetObject(c, true); }

struct Route {
  Handler handler = nullptr;
  bool buffered_xml = false;  // small XML body, read before authentication if unsigned
  bool streamed_body = false;
  bool needs_bucket = true;  // the bucket must exist and be the caller's
};

// Subresources S3 has and Mercato does not implement: answered with NotImplemented.
bool IsUnsupportedSubresource(std::string_view name) {
  static const std::set<std::string_view> kUnsupported = {"accelerate",
                                                          "acl",
                                                          "analytics",
                                                          "attributes",
                                                          "cors",
                                                          "encryption",
                                                          "intelligent-tiering",
                                                          "inventory",
                                                          "legal-hold",
                                                          "lifecycle",
                                                          "logging",
                                                          "metadataTable",
                                                          "metrics",
                                                          "notification",
                                                          "object-lock",
                                                          "ownershipControls",
                                                          "policy",
                                                          "policyStatus",
                                                          "publicAccessBlock",
                                                          "replication",
                                                          "requestPayment",
                                                          "restore",
                                                          "retention",
                                                          "select",
                                                          "tagging",
                                                          "torrent",
                                                          "versionId",
                                                          "versions",
                                                          "website",
                                                          "session",
                                                          "renameObject"};
  return kUnsupported.contains(name);
}

absl::StatusOr<Route> Classify(const http::Request& req, const Ctx& c) {
  for (const auto& [name, value] : req.QueryParams()) {
    if (IsUnsupportedSubresource(name)) {
      return S3Error("NotImplemented",
                     fmt::format("A header or query you provided implies functionality that is "
                                 "not implemented: {}",
                                 name));
    }
  }
  const std::string& m = req.method;
  auto not_allowed =
      S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.");
  if (c.bucket.empty()) {
    if (m == "GET") return Route{ListBuckets, false, false, false};
    return not_allowed;
  }
  if (c.key.empty()) {
    if (m == "GET") {
      if (c.HasParam("location")) return Route{GetBucketLocation};
      if (c.HasParam("versioning")) return Route{GetBucketVersioning};
      if (c.HasParam("uploads")) return Route{ListMultipartUploads};
      auto lt = c.Param("list-type");
      if (lt && *lt == "2") return Route{ListObjectsV2};
      return Route{ListObjectsV1};
    }
    if (m == "PUT") {
      if (c.HasParam("versioning")) return S3Error("NotImplemented", "Versioning is not supported");
      return Route{CreateBucket, true, false, false};
    }
    if (m == "DELETE") return Route{DeleteBucket};
    if (m == "HEAD") return Route{HeadBucket};
    if (m == "POST" && c.HasParam("delete")) return Route{DeleteObjects, true};
    return not_allowed;
  }
  if (c.key.size() > 1024) return S3Error("KeyTooLongError", "Your key is too long");
  if (m == "GET") return c.HasParam("uploadId") ? Route{ListParts} : Route{GetObjectOnly};
  if (m == "HEAD") return Route{HeadObject};
  if (m == "PUT") {
    if (c.HasParam("partNumber") || c.HasParam("uploadId")) {
      if (req.HasHeader("x-amz-copy-source")) {
        return S3Error("NotImplemented", "UploadPartCopy is not supported");
      }
      return Route{UploadPart, false, true};
    }
    if (req.HasHeader("x-amz-copy-source")) return Route{CopyObject};
    return Route{PutObject, false, true};
  }
  if (m == "DELETE") {
    return c.HasParam("uploadId") ? Route{AbortMultipartUpload} : Route{DeleteObject};
  }
  if (m == "POST") {
    if (c.HasParam("uploads")) return Route{CreateMultipartUpload};
    if (c.HasParam("uploadId")) return Route{CompleteMultipartUpload, true};
  }
  return not_allowed;
}

absl::StatusOr<http::Response> Serve(Ctx& c, auth::Authenticator& authenticator) {
  const http::Request& req = c.request;
  // Path-style: /bucket/key...; the key keeps any further slashes.
  std::string_view path = req.path;
  if (path.empty() || path.front() != '/') {
    return S3Error("InvalidRequest", "The request path must start with '/'");
  }
  path.remove_prefix(1);
  size_t slash = path.find('/');
  c.bucket = std::string(path.substr(0, slash));
  if (slash != std::string_view::npos) c.key = std::string(path.substr(slash + 1));

  absl::StatusOr<Route> route = Classify(req, c);

  // Authenticate. A declared x-amz-content-sha256 (or a presigned URL) is what was
  // signed; the body is verified against it as it streams. Without one, a small XML body
  // is hashed here, and bodiless requests sign the empty payload.
  std::optional<std::string> body_hash;
  bool declared = req.HasHeader("x-amz-content-sha256") || req.QueryParam("X-Amz-Signature");
  if (!declared) {
    if (route.ok() && route->buffered_xml) {
      auto body = c.body.ReadAll(c.options.max_xml_body);
      if (!body.ok()) {
        return S3Error("MaxMessageLengthExceeded", "Your request was too big.");
      }
      body_hash = Sha256Hex(*body);
      c.buffered_body = std::move(*body);
    } else if (route.ok() && route->streamed_body) {
      return S3Error("InvalidRequest",
                     "Missing required header for this request: x-amz-content-sha256");
    } else {
      body_hash = Sha256Hex("");
    }
  }
  ASSIGN_OR_RETURN(
      c.auth, authenticator.Authenticate(
                  req, body_hash ? std::optional<std::string_view>(*body_hash) : std::nullopt));
  if (!route.ok()) return route.status();
  if (route->needs_bucket) RETURN_IF_ERROR(CheckBucketAccess(c, c.bucket));
  return route->handler(c);
}

}  // namespace

S3Api::S3Api(S3Options options, MetadataStore& store, BlobStore& blobs,
             auth::Authenticator& authenticator, const Clock& clock)
    : options_(std::move(options)),
      store_(store),
      blobs_(blobs),
      authenticator_(authenticator),
      clock_(clock) {}

S3Api::~S3Api() = default;

http::Response S3Api::Handle(const http::Request& request, http::BodyReader& body) {
  std::string request_id = absl::AsciiStrToUpper(RandomHex(8));
  Ctx c{options_, store_, blobs_, clock_, commit_mu_, request, body, {}, "", "", request_id, {}};
  absl::StatusOr<http::Response> r = Serve(c, authenticator_);
  if (!r.ok()) {
    std::string resource = request.path.empty() ? "/" : request.path;
    http::Response err = ErrorResponse(r.status(), resource, request_id, request.method == "HEAD");
    return err;
  }
  r->SetHeader("x-amz-request-id", request_id);
  return std::move(*r);
}

absl::StatusOr<GcStats> S3Api::CollectGarbage() {
  GcStats stats;
  int64_t cutoff = ToMicros(clock_.Now() - options_.gc_grace);
  ASSIGN_OR_RETURN(SqlRows old_blobs,
                   store_.Query("SELECT blob_id FROM s3_blobs WHERE written_at < ?", {cutoff}));
  if (old_blobs.empty()) return stats;

  // One pass over every reference, then a recheck of each candidate under the lock.
  std::unordered_set<std::string> referenced;
  ASSIGN_OR_RETURN(SqlRows parts, store_.Query("SELECT blob_id FROM multipart_parts"));
  for (const SqlRow& row : parts) referenced.insert(row.Text(0));
  ASSIGN_OR_RETURN(SqlRows objects, store_.Query("SELECT segments FROM objects"));
  for (const SqlRow& row : objects) {
    auto segments = DecodeSegments(row.Text(0));
    if (!segments.ok()) return segments.status();  // never delete on a partial view
    for (const Segment& s : *segments) referenced.insert(s.blob);
  }

  for (const SqlRow& row : old_blobs) {
    std::string id = row.Text(0);
    if (referenced.contains(id)) continue;
    ++stats.candidates;
    if (options_.blob_in_use_elsewhere) {
      ASSIGN_OR_RETURN(bool elsewhere, options_.blob_in_use_elsewhere(id));
      if (elsewhere) continue;
    }
    std::unique_lock<std::shared_mutex> lock(commit_mu_);
    ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
    ASSIGN_OR_RETURN(
        SqlRows still_old,
        tx->Query("SELECT 1 FROM s3_blobs WHERE blob_id = ? AND written_at < ?", {id, cutoff}));
    ASSIGN_OR_RETURN(SqlRows in_part,
                     tx->Query("SELECT 1 FROM multipart_parts WHERE blob_id = ?", {id}));
    ASSIGN_OR_RETURN(SqlRows in_object, tx->Query("SELECT 1 FROM objects WHERE segments LIKE ?",
                                                  {fmt::format("%\"{}\"%", id)}));
    if (still_old.empty() || !in_part.empty() || !in_object.empty()) continue;
    auto size = blobs_.Size(id);
    RETURN_IF_ERROR(tx->Exec("DELETE FROM s3_blobs WHERE blob_id = ?", {id}).status());
    RETURN_IF_ERROR(blobs_.Delete(id));
    RETURN_IF_ERROR(tx->Commit());
    ++stats.deleted;
    if (size.ok()) stats.bytes_deleted += *size;
  }
  if (stats.deleted > 0) {
    spdlog::info("s3 gc: deleted {} blobs ({} bytes)", stats.deleted, stats.bytes_deleted);
  }
  return stats;
}

}  // namespace mercato::api::s3
