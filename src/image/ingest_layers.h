// Internal to image ingest: the second pass over an image archive, which streams each
// layer out of it, decompresses it, verifies its digests and limits, stores it in the
// BlobStore, and checks that the stored tar is well formed and stays inside the root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "blob/blob_store.h"
#include "image/image_archive.h"
#include "image/media_types.h"

namespace mercato::image_internal {

struct LayerSpec {
  std::string path;             // archive member holding the layer
  std::string media_type;       // as declared ("" for docker-save)
  std::string expected_digest;  // of the bytes as received, "" when unknown
  int64_t expected_size = -1;   // bytes as received, -1 when unknown
  std::string diff_id;          // sha256:... of the uncompressed tar (from the config)
  LayerCompression compression = LayerCompression::kAny;
};

// Returns one ImageLayer per spec, in order.
absl::StatusOr<std::vector<ImageLayer>> StoreLayers(const std::string& archive_path,
                                                    const std::vector<LayerSpec>& specs,
                                                    BlobStore& blobs, const IngestOptions& options);

// Walks a stored layer tar to its end: InvalidArgument if it is truncated or malformed or
// a member (or hard-link target) is absolute or has a ".." component.
absl::Status ValidateLayerTar(BlobStore& blobs, const std::string& blob_id);

}  // namespace mercato::image_internal
