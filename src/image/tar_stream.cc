#include "image/tar_stream.h"

#include <vector>

#include "fmt/format.h"

namespace mercato::image_internal {

std::string ArchiveErrorString(archive* a) {
  const char* s = a ? archive_error_string(a) : nullptr;
  return s ? std::string(s) : std::string("unknown error");
}

std::string EntryPath(archive_entry* e) {
  const char* p = archive_entry_pathname_utf8(e);
  if (!p) p = archive_entry_pathname(e);
  return p ? std::string(p) : std::string();
}

std::string EntryHardlink(archive_entry* e) {
  const char* p = archive_entry_hardlink_utf8(e);
  if (!p) p = archive_entry_hardlink(e);
  return p ? std::string(p) : std::string();
}

absl::StatusOr<std::string> NormalizeMemberPath(std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return absl::InvalidArgumentError(
        fmt::format("archive member '{}' has an absolute path", path));
  }
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view comp = path.substr(i, j - i);
    if (comp == "..") {
      return absl::InvalidArgumentError(
          fmt::format("archive member '{}' has a '..' component (path traversal)", path));
    }
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) out += '/';
      out.append(comp);
    }
    i = j + 1;
  }
  if (out.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("archive member path contains a NUL byte");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<LayerTarReader>> LayerTarReader::Open(BlobStore& blobs,
                                                                     std::string_view blob_id) {
  std::unique_ptr<LayerTarReader> r(new LayerTarReader());
  auto reader = blobs.Open(blob_id);
  if (!reader.ok()) return reader.status();
  r->reader_ = std::move(*reader);
  r->buf_.resize(256 * 1024);
  r->archive_.reset(archive_read_new());
  archive* a = r->archive_.get();
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  if (archive_read_open(a, r.get(), nullptr, &LayerTarReader::ReadCallback, nullptr) !=
      ARCHIVE_OK) {
    return r->ErrorStatus("cannot open layer");
  }
  return r;
}

LayerTarReader::~LayerTarReader() = default;

la_ssize_t LayerTarReader::ReadCallback(archive* a, void* self, const void** out) {
  auto* r = static_cast<LayerTarReader*>(self);
  auto n = r->reader_->Read(r->buf_.data(), r->buf_.size());
  if (!n.ok()) {
    r->read_status_ = n.status();
    archive_set_error(a, EIO, "%s", std::string(n.status().message()).c_str());
    return -1;
  }
  *out = r->buf_.data();
  return static_cast<la_ssize_t>(*n);
}

absl::Status LayerTarReader::ErrorStatus(std::string_view what) {
  if (!read_status_.ok()) return read_status_;
  return absl::InvalidArgumentError(
      fmt::format("{}: {}", what, ArchiveErrorString(archive_.get())));
}

absl::StatusOr<archive_entry*> LayerTarReader::Next() {
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(archive_.get(), &e);
  if (rc == ARCHIVE_EOF) return nullptr;
  if (rc == ARCHIVE_WARN) return e;  // e.g. unknown pax keywords: harmless
  if (rc != ARCHIVE_OK) return ErrorStatus("not a valid tar");
  return e;
}

absl::StatusOr<size_t> LayerTarReader::Read(char* buf, size_t n) {
  la_ssize_t got = archive_read_data(archive_.get(), buf, n);
  if (got < 0) return ErrorStatus("not a valid tar");
  return static_cast<size_t>(got);
}

absl::StatusOr<bool> LayerTarReader::ReadBlock(const void** data, size_t* size, int64_t* offset) {
  la_int64_t off = 0;
  int rc = archive_read_data_block(archive_.get(), data, size, &off);
  if (rc == ARCHIVE_EOF) return false;
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return ErrorStatus("not a valid tar");
  *offset = off;
  return true;
}

}  // namespace mercato::image_internal
