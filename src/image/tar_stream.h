// Internal helpers shared by the image pipeline (not a public API of mercato_image):
// RAII owners for libarchive handles, a streaming tar reader over a blob in the BlobStore,
// and the tar path rules every stage applies (normalize, reject absolute and `..`).
//
// A LayerTarReader streams: memory stays bounded (one read buffer) for any layer size.
// It is used by one thread at a time.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "blob/blob_store.h"

namespace mercato::image_internal {

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReadPtr = std::unique_ptr<archive, ArchiveReadDeleter>;
using ArchiveWritePtr = std::unique_ptr<archive, ArchiveWriteDeleter>;
struct ArchiveEntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryDeleter>;

// libarchive's last error message for `a`, or "unknown error".
std::string ArchiveErrorString(archive* a);

// The entry's path, preferring the UTF-8 form.
std::string EntryPath(archive_entry* e);
// The hard-link target of an entry, or "" if it is not a hard link.
std::string EntryHardlink(archive_entry* e);

// Normalizes a tar member path to a relative path with no "." or empty components
// ("./usr//bin/" -> "usr/bin"; "." -> ""). InvalidArgument naming the path if it is
// absolute or has a ".." component: such a member could land outside the root.
absl::StatusOr<std::string> NormalizeMemberPath(std::string_view path);

// Streams a tar (uncompressed, or gzip/zstd-compressed) stored as a blob.
class LayerTarReader {
 public:
  static absl::StatusOr<std::unique_ptr<LayerTarReader>> Open(BlobStore& blobs,
                                                              std::string_view blob_id);
  ~LayerTarReader();

  // The next entry (owned by the reader, valid until the next call), or nullptr at the end
  // of the archive. InvalidArgument for a malformed or truncated tar; DataLoss if the blob
  // itself is corrupt.
  absl::StatusOr<archive_entry*> Next();
  // Reads the current entry's data; 0 at its end. Same errors as Next().
  absl::StatusOr<size_t> Read(char* buf, size_t n);
  // Reads the next block of the current entry, with its offset in the file (sparse files
  // have holes between blocks). Returns false at the end of the entry.
  absl::StatusOr<bool> ReadBlock(const void** data, size_t* size, int64_t* offset);

 private:
  LayerTarReader() = default;
  static la_ssize_t ReadCallback(archive* a, void* self, const void** out);
  absl::Status ErrorStatus(std::string_view what);

  BlobReaderPtr reader_;
  std::vector<char> buf_;
  absl::Status read_status_;  // the BlobReader's error, if any
  ArchiveReadPtr archive_;
};

}  // namespace mercato::image_internal
