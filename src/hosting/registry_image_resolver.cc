#include "hosting/registry_image_resolver.h"

#include "base/status.h"
#include "fmt/format.h"

namespace mercato::hosting {

absl::Status RegistryImageResolver::Check(std::string_view account_id, std::string_view reference) {
  return registry_.Resolve(account_id, reference).status();
}

absl::StatusOr<ResolvedImage> RegistryImageResolver::Resolve(std::string_view account_id,
                                                             std::string_view reference) {
  ASSIGN_OR_RETURN(ImageRecord rec, registry_.Resolve(account_id, reference));
  if (rec.scan_status == "BLOCKED") {
    return absl::FailedPreconditionError(
        fmt::format("image {} is blocked by its security scan", reference));
  }
  std::vector<std::string> layers;
  for (const ImageLayer& l : rec.layers) layers.push_back(l.blob_id);
  ResolvedImage out;
  ASSIGN_OR_RETURN(out.rootfs, rootfs_.GetRootfs(rec.digest, layers));
  out.digest = rec.digest;
  // Shown as DeployedImages.ResolvedImage: the image pinned by digest.
  std::string uri = rec.image_uri;
  size_t at = uri.find('@');
  if (at != std::string::npos) {
    uri.resize(at);
  } else {
    size_t colon = uri.rfind(':'), slash = uri.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      uri.resize(colon);
    }
  }
  out.image_uri = uri + "@" + rec.digest;
  out.entrypoint = rec.config.entrypoint;
  out.cmd = rec.config.cmd;
  out.env = rec.config.env;
  out.working_dir = rec.config.working_dir;
  return out;
}

}  // namespace mercato::hosting
