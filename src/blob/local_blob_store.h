// LocalBlobStore: the BlobStore on a local file system, encrypted at rest (DESIGN.md §6).
//
// Each blob is one file, encrypted under its own random 256-bit data key; the data key is
// sealed with (a key derived from) the master key in the file header, together with the
// blob's id and size (see blob_format.h for the exact layout). Content is AES-256-GCM in
// fixed-size chunks, so writers and readers hold about two chunks in memory regardless of
// blob size, a read at an offset decrypts only the chunks it touches, and any altered,
// reordered, truncated or extended byte is reported as DataLoss.
//
// Directory layout under `root`:
//   blobs/ab/cd/<hex HMAC-SHA256(name key, id)>   committed blobs; file names do not reveal
//                                                 the plaintext hash
//   tmp/<random>.tmp                              blobs being written; removed at Create()
//   key-check                                     proves later runs use the same master key
//
// Durability: a writer streams into tmp/, and Commit() encrypts the last chunk, writes the
// header, fsyncs the file, renames it into blobs/ and fsyncs the directory before returning.
// Nothing partial ever appears under a final name. A second write of an existing id just
// discards its temp file.
//
// Ids given to Open/Size/Delete must be 64 lower-case hex characters (InvalidArgument
// otherwise). List() skips (and logs) files whose header cannot be authenticated.
//
// Thread-safety: all BlobStore methods are thread-safe (the store holds no mutable state;
// the file system's atomic rename arbitrates concurrent writers of the same content).
// Writers and readers may outlive the store. One store per root directory: Create()
// deletes every temp file under root/tmp, including those of another live store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "blob/blob_store.h"

namespace mercato {

struct LocalBlobStoreOptions {
  std::string root;        // created if missing
  std::string master_key;  // 32 raw bytes (see LoadOrCreateMasterKey in base/aead.h)
  // Plaintext bytes per encrypted chunk, 1 byte .. 64 MiB. Readers use the size recorded in
  // each blob, so changing this only affects new blobs.
  uint32_t chunk_size = 1u << 20;
};

class LocalBlobStore final : public BlobStore {
 public:
  // Creates the directories, removes leftover temp files (crash recovery) and checks that
  // the master key is the one the store was first created with (DataLoss if not).
  static absl::StatusOr<BlobStorePtr> Create(const LocalBlobStoreOptions& options);

  absl::StatusOr<BlobWriterPtr> NewWriter() override;
  absl::StatusOr<BlobReaderPtr> Open(std::string_view id, uint64_t offset = 0,
                                     std::optional<uint64_t> length = std::nullopt) override;
  absl::StatusOr<uint64_t> Size(std::string_view id) override;
  absl::Status Delete(std::string_view id) override;
  absl::StatusOr<std::vector<std::string>> List() override;

  // Shared, immutable configuration (defined in the .cc); public only so that the writer
  // and reader classes there can hold it.
  struct Config;

 private:
  explicit LocalBlobStore(std::shared_ptr<const Config> config);

  std::shared_ptr<const Config> config_;
};

}  // namespace mercato
