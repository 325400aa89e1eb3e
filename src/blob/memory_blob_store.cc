#include "blob/memory_blob_store.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/crypto.h"
#include "base/status.h"
#include "blob/blob_format.h"
#include "fmt/format.h"

namespace mercato {

struct MemoryBlobStore::State {
  absl::Mutex mu;
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> blobs ABSL_GUARDED_BY(mu);
};

namespace {

absl::Status CheckId(std::string_view id) {
  if (blob_internal::IsValidBlobId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("invalid blob id '{}': want 64 lower-case hex characters", id));
}

class MemoryBlobWriter final : public BlobWriter {
 public:
  explicit MemoryBlobWriter(std::shared_ptr<MemoryBlobStore::State> state)
      : state_(std::move(state)) {}

  absl::Status Write(std::string_view data) override {
    if (finished_) return absl::FailedPreconditionError("blob writer is already committed");
    data_.append(data);
    return absl::OkStatus();
  }

  absl::StatusOr<BlobInfo> Commit() override {
    if (finished_) return absl::FailedPreconditionError("blob writer is already committed");
    finished_ = true;
    BlobInfo info{Sha256Hex(data_), data_.size()};
    absl::MutexLock lock(&state_->mu);
    auto& slot = state_->blobs[info.id];
    if (slot == nullptr) slot = std::make_shared<const std::string>(std::move(data_));
    return info;
  }

  uint64_t bytes_written() const override { return data_.size(); }

 private:
  std::shared_ptr<MemoryBlobStore::State> state_;
  std::string data_;
  bool finished_ = false;
};

class MemoryBlobReader final : public BlobReader {
 public:
  MemoryBlobReader(std::shared_ptr<const std::string> data, uint64_t offset, uint64_t length)
      : data_(std::move(data)), pos_(offset), end_(offset + length), length_(length) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    std::memcpy(buf, data_->data() + pos_, take);
    pos_ += take;
    return take;
  }

  uint64_t size() const override { return length_; }

 private:
  std::shared_ptr<const std::string> data_;
  uint64_t pos_;
  uint64_t end_;
  uint64_t length_;
};

}  // namespace

MemoryBlobStore::MemoryBlobStore() : state_(std::make_shared<State>()) {}

absl::StatusOr<BlobWriterPtr> MemoryBlobStore::NewWriter() {
  return BlobWriterPtr(std::make_unique<MemoryBlobWriter>(state_));
}

absl::StatusOr<BlobReaderPtr> MemoryBlobStore::Open(std::string_view id, uint64_t offset,
                                                    std::optional<uint64_t> length) {
  RETURN_IF_ERROR(CheckId(id));
  std::shared_ptr<const std::string> data;
  {
    absl::MutexLock lock(&state_->mu);
    auto it = state_->blobs.find(id);
    if (it == state_->blobs.end()) return absl::NotFoundError(fmt::format("no blob {}", id));
    data = it->second;
  }
  uint64_t size = data->size();
  if (offset > size) {
    return absl::OutOfRangeError(
        fmt::format("offset {} is past the end of blob {} ({} bytes)", offset, id, size));
  }
  uint64_t len = std::min(length.value_or(size - offset), size - offset);
  return BlobReaderPtr(std::make_unique<MemoryBlobReader>(std::move(data), offset, len));
}

absl::StatusOr<uint64_t> MemoryBlobStore::Size(std::string_view id) {
  RETURN_IF_ERROR(CheckId(id));
  absl::MutexLock lock(&state_->mu);
  auto it = state_->blobs.find(id);
  if (it == state_->blobs.end()) return absl::NotFoundError(fmt::format("no blob {}", id));
  return it->second->size();
}

absl::Status MemoryBlobStore::Delete(std::string_view id) {
  RETURN_IF_ERROR(CheckId(id));
  absl::MutexLock lock(&state_->mu);
  auto it = state_->blobs.find(id);
  if (it != state_->blobs.end()) state_->blobs.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemoryBlobStore::List() {
  std::vector<std::string> ids;
  absl::MutexLock lock(&state_->mu);
  for (const auto& [id, data] : state_->blobs) ids.push_back(id);
  return ids;  // std::map keeps them sorted, as LocalBlobStore returns them
}

}  // namespace mercato
