// ObjectStore: the platform's own access to objects in Mercato's S3 (training and transform
// jobs read input channels and write model artifacts and outputs), without going through
// HTTP. It reads and writes exactly the rows the S3 API does (store/migrations.cc v2-v3):
//
//   objects: one row per key; etag = unquoted lower-case hex MD5 of the content (as S3 keeps
//            it; the API adds the quotes), metadata = "{}" (no x-amz-meta-*), segments = JSON
//            [{"blob","size"}] (empty for an empty object), checksum = "crc32:<base64>" (what
//            an SDK upload with the default CRC32 checksum records), last_modified = micros.
//   s3_blobs: every blob backing an object, stamped so that the S3 garbage collector keeps
//            it during its grace period.
//
// Race with the S3 garbage collector: Put stamps s3_blobs with the blob's id (the SHA-256,
// computed while streaming) before committing the blob, and again in the transaction that
// upserts the object row. The collector deletes a blob only in a write transaction that
// re-reads an old stamp, and write transactions are serialized, so either it deleted the old
// copy before our stamp (and our commit writes the file afresh) or it sees our fresh stamp
// and keeps it. No shared lock with S3Api is needed.
//
// Access: every call names the account; the bucket must exist (NotFound, code NoSuchBucket)
// and belong to that account (PermissionDenied, code AccessDenied). A missing key is
// NotFound (code NoSuchKey). Messages name the bucket/key so they can be shown as a job's
// FailureReason.
//
// Thread-safety: ObjectStore is thread-safe (it holds no mutable state); an ObjectReader is
// used by one thread at a time and may outlive nothing: it borrows the BlobStore.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "blob/blob_store.h"
#include "store/metadata_store.h"

namespace mercato::storage {

// s3://BUCKET[/KEY-OR-PREFIX]. The key may be empty (a whole bucket).
struct S3Uri {
  std::string bucket;
  std::string key;
  std::string ToString() const;  // s3://bucket/key
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // unquoted hex MD5 (or the multipart form "<hex>-N")
  std::string content_type;
  absl::Time last_modified;
};

// Streams an object's bytes (its segments in order).
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // Reads up to n bytes; 0 at the end. DataLoss if a blob is missing or corrupt.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  virtual const ObjectInfo& info() const = 0;
};
using ObjectReaderPtr = std::unique_ptr<ObjectReader>;

// Produces an upload's bytes: fills up to n bytes of buf and returns how many; 0 ends the
// stream.
using ChunkSource = std::function<absl::StatusOr<size_t>(char* buf, size_t n)>;

class ObjectStore {
 public:
  ObjectStore(MetadataStore& store, BlobStore& blobs, const Clock& clock)
      : store_(store), blobs_(blobs), clock_(clock) {}

  // InvalidArgument unless `uri` is s3://BUCKET[/KEY] with a non-empty bucket.
  static absl::StatusOr<S3Uri> ParseS3Uri(std::string_view uri);

  // OK when `bucket` exists and belongs to the account (the errors described above).
  absl::Status CheckBucket(std::string_view account_id, std::string_view bucket);

  // The objects whose key starts with `prefix`, ordered by key.
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view account_id, std::string_view bucket,
                                               std::string_view prefix);
  absl::StatusOr<ObjectInfo> Head(std::string_view account_id, std::string_view bucket,
                                  std::string_view key);
  absl::StatusOr<ObjectReaderPtr> Open(std::string_view account_id, std::string_view bucket,
                                       std::string_view key);
  // Copies an object into the file at `path` (created or truncated).
  absl::Status Download(std::string_view account_id, std::string_view bucket, std::string_view key,
                        const std::string& path);

  // Creates or replaces an object. Empty content_type means "binary/octet-stream".
  absl::StatusOr<ObjectInfo> Put(std::string_view account_id, std::string_view bucket,
                                 std::string_view key, std::string_view content_type,
                                 const ChunkSource& source);
  absl::StatusOr<ObjectInfo> PutFile(std::string_view account_id, std::string_view bucket,
                                     std::string_view key, std::string_view content_type,
                                     const std::string& path);
  // Copies an object to another key, bucket or account (both buckets checked against their
  // accounts). Only the record is copied: the copy shares the source's blobs and outlives
  // the source's deletion (escrow of listed model data). One transaction, so the garbage
  // collector never sees the blobs unreferenced in between.
  absl::StatusOr<ObjectInfo> Copy(std::string_view src_account, std::string_view src_bucket,
                                  std::string_view src_key, std::string_view dst_account,
                                  std::string_view dst_bucket, std::string_view dst_key);
  // Creates `bucket` for the account unless it exists; PermissionDenied (AccessDenied) if
  // another account owns the name.
  absl::Status EnsureBucket(std::string_view account_id, std::string_view bucket,
                            std::string_view region);

  absl::StatusOr<ObjectInfo> PutBytes(std::string_view account_id, std::string_view bucket,
                                      std::string_view key, std::string_view content_type,
                                      std::string_view data);

 private:
  MetadataStore& store_;
  BlobStore& blobs_;
  const Clock& clock_;
};

}  // namespace mercato::storage
