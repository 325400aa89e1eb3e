#include "image/ingest_layers.h"

#include <map>
#include <optional>

#include "base/crypto.h"
#include "base/status.h"
#include "fmt/format.h"
#include "image/tar_stream.h"

namespace mercato::image_internal {
namespace {

constexpr size_t kBufSize = 256 * 1024;

absl::Status Invalid(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

// Feeds the current member of the outer archive to an inner libarchive reader, hashing
// the bytes as received on the way.
struct MemberSource {
  archive* outer = nullptr;
  std::unique_ptr<Hasher> hash = Hasher::Create("sha256");
  uint64_t bytes = 0;
  std::vector<char> buf = std::vector<char>(kBufSize);
  std::string error;

  la_ssize_t Pull() {
    la_ssize_t n = archive_read_data(outer, buf.data(), buf.size());
    if (n < 0) {
      error = ArchiveErrorString(outer);
      return -1;
    }
    hash->Update(std::string_view(buf.data(), n));
    bytes += n;
    return n;
  }
  static la_ssize_t Read(archive* a, void* self, const void** out) {
    auto* s = static_cast<MemberSource*>(self);
    la_ssize_t n = s->Pull();
    if (n < 0) archive_set_error(a, EIO, "%s", s->error.c_str());
    *out = s->buf.data();
    return n;
  }
};

std::string CompressionName(LayerCompression c) {
  switch (c) {
    case LayerCompression::kNone:
      return "uncompressed";
    case LayerCompression::kGzip:
      return "gzip";
    case LayerCompression::kZstd:
      return "zstd";
    default:
      return "any";
  }
}

// Streams one layer member into the BlobStore (decompressed) and verifies it. Nothing is
// committed unless every digest and limit check passes.
absl::StatusOr<ImageLayer> StoreOneLayer(archive* outer, const LayerSpec& spec, size_t index,
                                         BlobStore& blobs, const IngestOptions& options,
                                         uint64_t total_before) {
  std::string what = fmt::format("layer {} ('{}')", index, spec.path);
  MemberSource src;
  src.outer = outer;
  ArchiveReadPtr inner(archive_read_new());
  archive_read_support_filter_gzip(inner.get());
  archive_read_support_filter_zstd(inner.get());
  archive_read_support_format_raw(inner.get());
  archive_entry* e = nullptr;
  if (archive_read_open(inner.get(), &src, nullptr, &MemberSource::Read, nullptr) != ARCHIVE_OK ||
      archive_read_next_header(inner.get(), &e) != ARCHIVE_OK) {
    return Invalid(fmt::format("{} cannot be read: {}", what, ArchiveErrorString(inner.get())));
  }
  LayerCompression actual = LayerCompression::kNone;
  switch (archive_filter_code(inner.get(), 0)) {
    case ARCHIVE_FILTER_NONE:
      actual = LayerCompression::kNone;
      break;
    case ARCHIVE_FILTER_GZIP:
      actual = LayerCompression::kGzip;
      break;
    case ARCHIVE_FILTER_ZSTD:
      actual = LayerCompression::kZstd;
      break;
    default:
      return Invalid(fmt::format("{} uses an unsupported compression", what));
  }
  if (spec.compression != LayerCompression::kAny && spec.compression != actual) {
    return Invalid(fmt::format("{} is declared {} ('{}') but its data is {}", what,
                               CompressionName(spec.compression), spec.media_type,
                               CompressionName(actual)));
  }
  ASSIGN_OR_RETURN(BlobWriterPtr writer, blobs.NewWriter());
  auto diff_hash = Hasher::Create("sha256");
  std::vector<char> buf(kBufSize);
  uint64_t size = 0;
  while (true) {
    la_ssize_t n = archive_read_data(inner.get(), buf.data(), buf.size());
    if (n < 0) {
      return Invalid(fmt::format("{} has corrupt or truncated data: {}", what,
                                 ArchiveErrorString(inner.get())));
    }
    if (n == 0) break;
    size += n;
    if (size > options.max_layer_bytes) {
      return Invalid(fmt::format("{} is larger than the limit of {} bytes uncompressed", what,
                                 options.max_layer_bytes));
    }
    if (total_before + size > options.max_total_bytes) {
      return Invalid(fmt::format("image is larger than the limit of {} bytes uncompressed",
                                 options.max_total_bytes));
    }
    if (size > options.ratio_floor_bytes && src.bytes > 0 &&
        size / src.bytes > options.max_compression_ratio) {
      return Invalid(fmt::format("{} expands more than {}x when decompressed (decompression bomb?)",
                                 what, options.max_compression_ratio));
    }
    std::string_view chunk(buf.data(), n);
    diff_hash->Update(chunk);
    RETURN_IF_ERROR(writer->Write(chunk));
  }
  // Hash whatever trails the compressed stream so the digest covers the whole member.
  while (true) {
    la_ssize_t n = src.Pull();
    if (n < 0) return Invalid(fmt::format("image archive is truncated in {}: {}", what, src.error));
    if (n == 0) break;
  }
  ImageLayer layer;
  layer.digest = "sha256:" + HexEncode(src.hash->Final());
  layer.diff_id = "sha256:" + HexEncode(diff_hash->Final());
  layer.size = size;
  layer.compressed_size = src.bytes;
  layer.media_type =
      !spec.media_type.empty()            ? spec.media_type
      : actual == LayerCompression::kGzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
      : actual == LayerCompression::kZstd ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                          : "application/vnd.oci.image.layer.v1.tar";
  if (!spec.expected_digest.empty() && layer.digest != spec.expected_digest) {
    return Invalid(fmt::format("{} has digest {} but the manifest says {}", what, layer.digest,
                               spec.expected_digest));
  }
  if (spec.expected_size >= 0 &&
      static_cast<int64_t>(layer.compressed_size) != spec.expected_size) {
    return Invalid(fmt::format("{} has {} bytes but the manifest says {}", what,
                               layer.compressed_size, spec.expected_size));
  }
  if (layer.diff_id != spec.diff_id) {
    return Invalid(fmt::format("{} has diff_id {} but the image config says {}", what,
                               layer.diff_id, spec.diff_id));
  }
  ASSIGN_OR_RETURN(BlobInfo info, writer->Commit());
  layer.blob_id = info.id;
  return layer;
}

}  // namespace

absl::StatusOr<std::vector<ImageLayer>> StoreLayers(const std::string& archive_path,
                                                    const std::vector<LayerSpec>& specs,
                                                    BlobStore& blobs,
                                                    const IngestOptions& options) {
  std::map<std::string, std::vector<size_t>> wanted;  // member path -> layer indexes
  for (size_t i = 0; i < specs.size(); ++i) wanted[specs[i].path].push_back(i);
  std::vector<std::optional<ImageLayer>> out(specs.size());

  ArchiveReadPtr a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), kBufSize) != ARCHIVE_OK) {
    return Invalid(fmt::format("cannot read image archive: {}", ArchiveErrorString(a.get())));
  }
  uint64_t total = 0;
  while (true) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return Invalid(
          fmt::format("image archive is not a valid tar: {}", ArchiveErrorString(a.get())));
    }
    if (archive_entry_filetype(e) != AE_IFREG || !EntryHardlink(e).empty()) continue;
    auto p = NormalizeMemberPath(EntryPath(e));
    if (!p.ok()) continue;  // pass 1 already refused such archives
    auto it = wanted.find(*p);
    if (it == wanted.end() || out[it->second[0]]) continue;
    const size_t first = it->second[0];
    ASSIGN_OR_RETURN(ImageLayer layer,
                     StoreOneLayer(a.get(), specs[first], first, blobs, options, total));
    absl::Status valid = ValidateLayerTar(blobs, layer.blob_id);
    if (!valid.ok()) {
      // A malformed tar cannot belong to any accepted image, so the blob is ours to drop.
      (void)blobs.Delete(layer.blob_id);
      return Invalid(fmt::format("layer {} ('{}') {}", first, *p, std::string(valid.message())));
    }
    for (size_t i : it->second) {
      if (specs[i].diff_id != layer.diff_id) {
        return Invalid(fmt::format("layer {} has diff_id {} but the image config says {}", i,
                                   layer.diff_id, specs[i].diff_id));
      }
      out[i] = layer;
    }
    total += layer.size * it->second.size();
  }
  std::vector<ImageLayer> layers;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i]) {
      return Invalid(fmt::format("layer {} ('{}') is not in the archive", i, specs[i].path));
    }
    layers.push_back(std::move(*out[i]));
  }
  return layers;
}

absl::Status ValidateLayerTar(BlobStore& blobs, const std::string& blob_id) {
  ASSIGN_OR_RETURN(auto reader, LayerTarReader::Open(blobs, blob_id));
  std::vector<char> buf(kBufSize);
  while (true) {
    ASSIGN_OR_RETURN(archive_entry * e, reader->Next());
    if (!e) return absl::OkStatus();
    auto p = NormalizeMemberPath(EntryPath(e));
    if (!p.ok()) return p.status();
    std::string hard = EntryHardlink(e);
    if (!hard.empty()) {
      auto h = NormalizeMemberPath(hard);
      if (!h.ok()) {
        return Invalid(fmt::format("hard link '{}' targets an unsafe path: {}", *p,
                                   std::string(h.status().message())));
      }
    }
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
      if (n == 0) break;
    }
  }
}

}  // namespace mercato::image_internal
