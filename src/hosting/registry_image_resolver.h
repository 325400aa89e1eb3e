// RegistryImageResolver: the server's ImageResolver — looks a reference up in the account's
// image registry and unpacks the image once per digest through the rootfs cache.
// Images whose scan BLOCKED them are refused. Thread-safe; borrows both.
#pragma once

#include "hosting/image_resolver.h"
#include "image/image_registry.h"
#include "image/rootfs_cache.h"

namespace mercato::hosting {

class RegistryImageResolver final : public ImageResolver {
 public:
  RegistryImageResolver(ImageRegistry& registry, RootfsCache& rootfs)
      : registry_(registry), rootfs_(rootfs) {}
  absl::StatusOr<ResolvedImage> Resolve(std::string_view account_id,
                                        std::string_view reference) override;
  // Only checks that the reference names an image of the account (CreateModel).
  absl::Status Check(std::string_view account_id, std::string_view reference);

 private:
  ImageRegistry& registry_;
  RootfsCache& rootfs_;
};

}  // namespace mercato::hosting
