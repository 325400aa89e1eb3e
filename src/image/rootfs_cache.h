// RootfsCache: unpacks an image's layers once per image digest into
// `cache_dir/sha256-<hex>/rootfs`, for the sandbox to mount read-only.
//
// Unpacking applies the layers in order with OCI semantics: whiteouts (`.wh.NAME`) delete
// what lower layers put at NAME, an opaque marker (`.wh..wh..opq`) hides a directory's
// lower-layer contents, hard links and symlinks are recreated. Nothing may land outside
// the rootfs: members that are absolute or contain "..", and any write through a symlink
// (every path component is opened with O_NOFOLLOW relative to the rootfs), are refused
// with InvalidArgument. setuid/setgid/sticky bits are dropped from files, device nodes,
// FIFOs and sockets are skipped, owners are not applied (the sandbox maps uids), and
// directories always get owner rwx so later layers and eviction can modify them. Limits
// on total file bytes and entry count stop decompression bombs.
//
// Each unpack happens in a temporary directory under cache_dir that is renamed into place
// only when complete, so a rootfs path, once returned, is whole; a failed unpack leaves
// nothing behind. Thread-safety: RootfsCache is thread-safe; concurrent GetRootfs() calls
// for one digest unpack it once (the others wait for that result).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "blob/blob_store.h"

namespace mercato {

struct UnpackLimits {
  uint64_t max_total_bytes = 20ull << 30;  // sum of regular-file sizes over all layers
  uint64_t max_entries = 1'000'000;        // tar members over all layers
};

// Unpacks `layer_blob_ids` (uncompressed or compressed tars in `blobs`), base layer
// first, into the existing directory `root_dir`. On error `root_dir` may hold a partial
// tree (the caller discards it) but nothing outside it has been touched.
absl::Status UnpackLayers(BlobStore& blobs, const std::vector<std::string>& layer_blob_ids,
                          const std::string& root_dir, const UnpackLimits& limits = {});

struct RootfsCacheOptions {
  std::string cache_dir{};
  UnpackLimits limits{};
};

class RootfsCache {
 public:
  // Creates cache_dir if needed and removes temporary directories a crash left behind.
  static absl::StatusOr<std::unique_ptr<RootfsCache>> Create(BlobStore& blobs,
                                                             RootfsCacheOptions options);

  // The rootfs directory of image `digest` ("sha256:<hex>"), unpacking `layer_blob_ids`
  // into it first unless already cached.
  absl::StatusOr<std::string> GetRootfs(std::string_view digest,
                                        const std::vector<std::string>& layer_blob_ids);
  // Whether the digest is unpacked.
  bool Contains(std::string_view digest) const;
  // Evicts an unpacked image (the caller ensures nothing has it mounted). OK if absent.
  absl::Status Remove(std::string_view digest);

 private:
  RootfsCache(BlobStore& blobs, RootfsCacheOptions options)
      : blobs_(blobs), options_(std::move(options)) {}
  absl::StatusOr<std::string> DirFor(std::string_view digest) const;
  absl::Status Unpack(const std::string& final_dir, const std::vector<std::string>& layers);

  BlobStore& blobs_;
  const RootfsCacheOptions options_;
  std::mutex mu_;
  std::condition_variable done_;
  std::set<std::string> in_flight_;  // digests being unpacked (guarded by mu_)
};

}  // namespace mercato
