// Image ingest: turns an uploaded container-image archive into a normalized, verified
// image whose layers live in the BlobStore.
//
// Accepted inputs (optionally gzip- or zstd-compressed as a whole):
//   - `docker save` archives: manifest.json + config JSON + layer tars (plain or gzip);
//   - OCI image layout archives (oci-layout, index.json, blobs/sha256/...), e.g. skopeo's
//     oci-archive, with layers application/vnd.oci.image.layer.v1.tar[+gzip|+zstd] or the
//     Docker schema-2 equivalents. A nested index picks linux/amd64 (else the first).
// Every digest is verified (blobs against their descriptors, decompressed layers against
// the config's rootfs.diff_ids), every layer is checked to be a well-formed tar whose
// members stay inside the root, and size limits guard against decompression bombs. Any
// problem is an InvalidArgument whose message names it; nothing partial is recorded.
//
// Layers are stored decompressed, so a layer's blob id is the hex of its diff_id and equal
// layers are stored once. Ingest streams: it reads the archive twice (metadata, then
// layers) and holds at most the small JSON documents in memory, never a whole layer.
// Thread-safety: the function is thread-safe given a thread-safe BlobStore.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "blob/blob_store.h"

namespace mercato {

// The runtime part of an image config ("config" in the OCI image config).
struct ImageRuntimeConfig {
  std::vector<std::string> entrypoint{};
  std::vector<std::string> cmd{};
  std::vector<std::string> env{};  // "KEY=VALUE"
  std::string working_dir{};
  std::string user{};
  std::vector<std::string> exposed_ports{};  // e.g. "8080/tcp"
  std::map<std::string, std::string> labels{};
};

struct ImageLayer {
  std::string digest;            // sha256:... of the layer as received (the descriptor digest)
  std::string diff_id{};         // sha256:... of the uncompressed tar
  std::string blob_id;           // BlobStore id of the stored, uncompressed tar (hex of diff_id)
  uint64_t size = 0;             // uncompressed bytes
  uint64_t compressed_size = 0;  // bytes as received
  std::string media_type{};      // as received
};

struct IngestedImage {
  std::string format{};         // "docker-archive" or "oci-archive"
  std::string manifest_digest;  // sha256:... (for docker-archive: of the synthesized manifest)
  std::string manifest_json{};  // OCI manifest describing config + layers as received
  std::string config_digest{};  // sha256:... of config_json
  std::string config_json{};    // the image config, verbatim
  std::string os{};
  std::string architecture{};
  ImageRuntimeConfig config{};
  std::vector<ImageLayer> layers{};      // base layer first
  uint64_t size_bytes = 0;               // sum of uncompressed layer sizes
  std::vector<std::string> ref_names{};  // RepoTags / org.opencontainers.image.ref.name seen
};

struct IngestOptions {
  uint64_t max_layer_bytes = 10ull << 30;  // uncompressed, per layer
  uint64_t max_total_bytes = 10ull << 30;  // uncompressed, all layers
  // A layer expanding more than this factor (once past ratio_floor_bytes) is a bomb.
  uint64_t max_compression_ratio = 200;
  uint64_t ratio_floor_bytes = 64ull << 20;
  // Prefer the manifest whose RepoTag / ref.name equals this (when the archive has several).
  std::string ref_name{};
};

// Ingests the archive at `path`. Layers are written to `blobs`.
absl::StatusOr<IngestedImage> IngestImageArchive(const std::string& path, BlobStore& blobs,
                                                 const IngestOptions& options = {});

// Parses the "config" section of an image config JSON.
absl::StatusOr<ImageRuntimeConfig> ParseRuntimeConfig(const Json& image_config);
Json RuntimeConfigToJson(const ImageRuntimeConfig& c);

}  // namespace mercato
