// BlobStore: immutable, content-addressed byte objects (S3 object data, image layers,
// model artifacts, datasets, reports), encrypted at rest.
//
// A blob's id is the lower-case hex SHA-256 of its plaintext. Writing the same bytes twice
// yields the same id and stores them once. Blobs are written through a BlobWriter, which
// streams (memory stays bounded for any size) and becomes visible only at Commit(): when
// Commit() returns OK the blob is durable; a crash at any earlier point leaves nothing
// visible. Readers stream too, may start at an offset, and report DataLoss if any stored
// byte was altered (no unauthenticated plaintext is ever returned).
//
// References to blobs live in the MetadataStore; deleting a blob that is still referenced
// is the caller's bug. Thread-safety: BlobStore is thread-safe; a BlobWriter or BlobReader
// is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mercato {

struct BlobInfo {
  std::string id;     // hex SHA-256 of the plaintext
  uint64_t size = 0;  // plaintext bytes
};

class BlobWriter {
 public:
  // Destroying a writer without a successful Commit() discards what was written.
  virtual ~BlobWriter() = default;
  virtual absl::Status Write(std::string_view data) = 0;
  // Makes the blob durable and visible; the writer is finished afterwards.
  virtual absl::StatusOr<BlobInfo> Commit() = 0;
  // Bytes written so far.
  virtual uint64_t bytes_written() const = 0;
};
using BlobWriterPtr = std::unique_ptr<BlobWriter>;

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Reads up to n bytes; returns 0 at the end of the requested range. DataLoss on
  // tampering or corruption.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Bytes this reader produces in total (the length of the requested range).
  virtual uint64_t size() const = 0;
};
using BlobReaderPtr = std::unique_ptr<BlobReader>;

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual absl::StatusOr<BlobWriterPtr> NewWriter() = 0;
  // Opens [offset, offset + length) of a blob (to its end if length is unset).
  // NotFound if there is no such blob; OutOfRange if offset > size.
  virtual absl::StatusOr<BlobReaderPtr> Open(std::string_view id, uint64_t offset = 0,
                                             std::optional<uint64_t> length = std::nullopt) = 0;
  // Plaintext size of a blob; NotFound if absent.
  virtual absl::StatusOr<uint64_t> Size(std::string_view id) = 0;
  // Removes a blob; OK if it was already absent.
  virtual absl::Status Delete(std::string_view id) = 0;
  // Ids of every stored blob (for garbage collection of unreferenced blobs).
  virtual absl::StatusOr<std::vector<std::string>> List() = 0;
};
using BlobStorePtr = std::unique_ptr<BlobStore>;

// Convenience: whole-blob helpers for small values.
absl::StatusOr<BlobInfo> PutBlob(BlobStore& store, std::string_view data);
absl::StatusOr<std::string> GetBlob(BlobStore& store, std::string_view id);

}  // namespace mercato
