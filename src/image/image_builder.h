// Image builder: packages a root filesystem (a directory, or a list of host files placed
// at image paths) as a single-layer OCI image archive (oci-layout, index.json,
// blobs/sha256/{manifest,config,layer}) that IngestImageArchive accepts. Used by
// `mercato image build DIR --name REPO:TAG --entrypoint PATH --env K=V` and by the build
// to package the built-in containers.
//
// The layer is a gzip-compressed pax tar; entries are sorted, owned by root and stamped
// with ImageBuildOptions::mtime, so the same input always gives the same digests. The
// layer streams through a temporary file next to the output; memory stays bounded.
// Regular files, directories, symlinks and hard links are packaged; sockets, FIFOs and
// devices are skipped. Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mercato {

struct ImageBuildOptions {
  std::vector<std::string> entrypoint{};
  std::vector<std::string> cmd{};
  std::vector<std::string> env{};  // "KEY=VALUE"
  std::string working_dir{};
  std::string user{};
  std::vector<std::string> exposed_ports{};  // "8080/tcp"
  std::map<std::string, std::string> labels{};
  // Written as the index's org.opencontainers.image.ref.name annotation (e.g. "repo:tag").
  std::string ref_name{};
  std::string os = "linux";
  std::string architecture = "amd64";
  int64_t mtime = 0;  // seconds since the epoch, for every entry
};

struct FileMapping {
  std::string host_path;         // a regular file on the host (symlinks are followed)
  std::string image_path{};      // absolute or relative path inside the image
  std::optional<mode_t> mode{};  // default: the host file's permission bits
};

struct BuiltImage {
  std::string manifest_digest{};  // sha256:...
  std::string config_digest{};
  std::string layer_digest{};  // of the gzip layer
  std::string diff_id{};       // of the uncompressed layer tar
  uint64_t layer_size = 0;     // compressed bytes
};

// Packages the tree under `rootfs_dir` (it becomes "/") into `output_path`.
absl::StatusOr<BuiltImage> BuildImageFromDirectory(const std::string& rootfs_dir,
                                                   const ImageBuildOptions& options,
                                                   const std::string& output_path);

// Packages the given files (parent directories are created 0755) into `output_path`.
absl::StatusOr<BuiltImage> BuildImageFromFiles(const std::vector<FileMapping>& files,
                                               const ImageBuildOptions& options,
                                               const std::string& output_path);

}  // namespace mercato
