// OCI and Docker media types the image pipeline understands, and what each says about a
// layer's compression. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace mercato {

inline constexpr char kOciLayoutVersion[] = "1.0.0";
inline constexpr char kOciIndexType[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifestType[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciConfigType[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kOciLayerTarType[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kOciLayerGzipType[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kOciLayerZstdType[] = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr char kDockerManifestType[] =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestListType[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerConfigType[] = "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerLayerTarType[] = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr char kDockerLayerGzipType[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// kAny: docker-save layers carry no media type; the bytes decide.
enum class LayerCompression { kAny, kNone, kGzip, kZstd };

inline bool IsIndexMediaType(std::string_view t) {
  return t == kOciIndexType || t == kDockerManifestListType;
}
inline bool IsManifestMediaType(std::string_view t) {
  return t == kOciManifestType || t == kDockerManifestType;
}
inline bool IsConfigMediaType(std::string_view t) {
  return t == kOciConfigType || t == kDockerConfigType;
}
// The compression a layer media type declares; nullopt for unsupported types (foreign or
// non-distributable layers, encrypted layers, anything unknown).
inline std::optional<LayerCompression> LayerCompressionFor(std::string_view t) {
  if (t == kOciLayerTarType || t == kDockerLayerTarType) return LayerCompression::kNone;
  if (t == kOciLayerGzipType || t == kDockerLayerGzipType) return LayerCompression::kGzip;
  if (t == kOciLayerZstdType) return LayerCompression::kZstd;
  return std::nullopt;
}

}  // namespace mercato
