// S3Api: Mercato's S3-compatible API (path-style addressing), the subset boto3, s3transfer
// and the AWS CLI use: buckets, objects (streamed put/get with ranges, copy, delete,
// batch delete), listings (V1 and V2) and multipart uploads.
//
// The server's dispatcher hands every request whose SigV4 credential scope names service
// `s3` to Handle(). Handle authenticates the request (Authenticator), authorizes it (a
// bucket belongs to one account; another account gets AccessDenied), performs it and
// renders S3's wire shapes, including S3's XML error document. It never returns a
// transport error: every failure becomes an S3 error response.
//
// Storage: object bytes go to the BlobStore (content-addressed, encrypted); bucket,
// object and upload records to the MetadataStore (tables `buckets`, `objects`,
// `multipart_uploads`, `multipart_parts`, `s3_blobs`). An object becomes visible only
// when its blob is committed and the metadata transaction that names it commits, so a
// crash mid-upload leaves nothing visible. Overwrites and deletes never delete blobs
// inline (a blob may be shared by several objects through dedup and CopyObject);
// CollectGarbage() removes blobs that S3 wrote and nothing references any more.
//
// Thread-safety: Handle() and CollectGarbage() may be called concurrently from any
// number of threads. S3Api borrows the store, blob store, authenticator and clock; they
// must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth/authenticator.h"
#include "base/clock.h"
#include "blob/blob_store.h"
#include "http/message.h"
#include "store/metadata_store.h"

namespace mercato::api::s3 {

struct S3Options {
  // Reported by GetBucketLocation/HeadBucket; a CreateBucketConfiguration naming another
  // region is refused.
  std::string region = "local";
  // Largest single PUT / UploadPart body (S3: 5 GiB).
  uint64_t max_put_size = 5ull << 30;
  // Smallest part of a multipart upload other than the last (S3: 5 MiB).
  uint64_t min_part_size = 5ull << 20;
  // Largest XML request body (DeleteObjects with 1000 long keys fits).
  size_t max_xml_body = 4u << 20;
  // Blobs written less than this long ago are never collected: an upload may have
  // committed its blob and not yet its metadata.
  absl::Duration gc_grace = absl::Hours(1);
  // Optional: true if another subsystem (catalog escrow, models...) references a blob
  // id, so CollectGarbage must keep it even when no S3 object does.
  std::function<absl::StatusOr<bool>(std::string_view blob_id)> blob_in_use_elsewhere;
};

struct GcStats {
  uint64_t candidates = 0;  // S3-written blobs past the grace period
  uint64_t deleted = 0;     // of those, unreferenced and deleted
  uint64_t bytes_deleted = 0;
};

class S3Api {
 public:
  S3Api(S3Options options, MetadataStore& store, BlobStore& blobs,
        auth::Authenticator& authenticator, const Clock& clock);
  ~S3Api();
  S3Api(const S3Api&) = delete;
  S3Api& operator=(const S3Api&) = delete;

  // Serves one S3 request; reads (and may stream) `body`. The response may carry a
  // BodySource that streams object bytes after Handle returns; it borrows the BlobStore.
  http::Response Handle(const http::Request& request, http::BodyReader& body);

  // Deletes blobs that S3 wrote (recorded in `s3_blobs`) when they are older than
  // gc_grace and referenced by no object, no multipart part and (if set)
  // blob_in_use_elsewhere. Safe to run while requests are served; meant to be called
  // periodically from a background thread (e.g. every 15 minutes and once at start).
  absl::StatusOr<GcStats> CollectGarbage();

 private:
  S3Options options_;
  MetadataStore& store_;
  BlobStore& blobs_;
  auth::Authenticator& authenticator_;
  const Clock& clock_;
  // Held shared by uploads from blob commit to metadata commit, exclusively by the
  // garbage collector while it rechecks and deletes one blob: a deduplicated blob that
  // an upload is about to reference is never deleted under it.
  std::shared_mutex commit_mu_;
};

}  // namespace mercato::api::s3
