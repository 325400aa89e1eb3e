// MemoryBlobStore: an in-memory BlobStore for other libraries' unit tests. Same semantics
// as LocalBlobStore (content-addressed ids, visibility only at Commit, dedup, range reads,
// OutOfRange/NotFound/InvalidArgument errors) but no encryption, no durability and no
// memory bound: a writer buffers its whole blob.
//
// Thread-safety: all BlobStore methods are thread-safe. Readers hold their own reference
// to the bytes, so a blob deleted while being read still reads to its end. Writers and
// readers may outlive the store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "blob/blob_store.h"

namespace mercato {

class MemoryBlobStore final : public BlobStore {
 public:
  MemoryBlobStore();

  absl::StatusOr<BlobWriterPtr> NewWriter() override;
  absl::StatusOr<BlobReaderPtr> Open(std::string_view id, uint64_t offset = 0,
                                     std::optional<uint64_t> length = std::nullopt) override;
  absl::StatusOr<uint64_t> Size(std::string_view id) override;
  absl::Status Delete(std::string_view id) override;
  absl::StatusOr<std::vector<std::string>> List() override;

  // Shared between the store and its writers (defined in the .cc).
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace mercato
