// Model data: copies a model's ModelDataUrl (s3://BUCKET/KEY in Mercato's own S3, in a bucket
// of the model's account) out of the objects table and the BlobStore and extracts the
// .tar.gz into a directory that the sandbox mounts read-only at /opt/ml/model.
//
// Extraction is safe: members that are absolute, contain "..", or would be written through
// a symlink are refused; devices, FIFOs and sockets are skipped; setuid/setgid bits and
// owners are dropped; the total size and entry count are capped against decompression
// bombs. Errors are FailedPrecondition with a message fit for an endpoint's FailureReason.
// Thread-safe (no shared mutable state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "blob/blob_store.h"
#include "store/metadata_store.h"

namespace mercato::hosting {

struct ModelDataLimits {
  uint64_t max_total_bytes = 20ull << 30;
  uint64_t max_entries = 1'000'000;
};

class ModelDataFetcher {
 public:
  ModelDataFetcher(MetadataStore& store, BlobStore& blobs, ModelDataLimits limits = {})
      : store_(store), blobs_(blobs), limits_(limits) {}

  // Extracts `url`'s archive into `dest_dir` (created if missing).
  absl::Status Fetch(std::string_view account_id, std::string_view url,
                     const std::string& dest_dir);

 private:
  MetadataStore& store_;
  BlobStore& blobs_;
  ModelDataLimits limits_;
};

// Extracts the (optionally compressed) tar at `archive_path` into `dest_dir` safely.
absl::Status ExtractArchiveSafely(const std::string& archive_path, const std::string& dest_dir,
                                  const ModelDataLimits& limits);

}  // namespace mercato::hosting
