// ImageResolver: turns a model's container image reference (REPO:TAG, REPO@sha256:...,
// HOST:PORT/ACCOUNT/REPO:TAG) into what the sandbox needs to run it: an unpacked read-only
// rootfs and the image's runtime config. The server implements it over the image registry
// and the rootfs cache (registry_image_resolver.h); tests use a fixed map.
// Implementations are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mercato::hosting {

struct ResolvedImage {
  std::string digest;     // sha256:...
  std::string image_uri;  // resolved form shown as DeployedImages.ResolvedImage
  std::string rootfs;     // host directory holding the unpacked image
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::string working_dir;
};

class ImageResolver {
 public:
  virtual ~ImageResolver() = default;
  // NotFound when the account has no such image. May take long (first unpack).
  virtual absl::StatusOr<ResolvedImage> Resolve(std::string_view account_id,
                                                std::string_view reference) = 0;
};

}  // namespace mercato::hosting
