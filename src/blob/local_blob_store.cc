#include "blob/local_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/aead.h"
#include "base/crypto.h"
#include "base/status.h"
#include "blob/blob_format.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato {

using blob_internal::BlobHeader;
using blob_internal::BlobKeys;
using blob_internal::BlobLayout;
using blob_internal::ChunkCipher;
using blob_internal::kHeaderSize;
using blob_internal::kTagSize;

struct LocalBlobStore::Config {
  std::string root;
  std::string blobs_dir;
  std::string tmp_dir;
  BlobKeys keys;
  uint32_t chunk_size = 0;
};

namespace {

constexpr std::string_view kKeyCheckPlaintext = "mercato blob store key check v1";

absl::Status ErrnoError(std::string_view op, const std::string& path) {
  int err = errno;
  return absl::ErrnoToStatus(err, fmt::format("{} {}", op, path));
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // close() reports deferred write errors, so Commit checks it.
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_ = -1;
};

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status PwriteAll(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("pwrite", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// Reads exactly out->size() bytes at `offset`; DataLoss if the file is shorter.
absl::Status PreadAll(int fd, std::string* out, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n =
        ::pread(fd, out->data() + done, out->size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path);
    }
    if (n == 0) return absl::DataLossError(fmt::format("blob file {} is truncated", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status FsyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError("open", path);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync", path);
  return absl::OkStatus();
}

// Creates `dir` if missing (its parent must exist) and makes the new entry durable.
// Tolerates a concurrent creator.
absl::Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    return FsyncPath(std::filesystem::path(dir).parent_path().string());
  }
  if (errno == EEXIST) return absl::OkStatus();
  return ErrnoError("mkdir", dir);
}

// Writes `data` to `path` atomically and durably via a temp file.
absl::Status WriteFileAtomic(const LocalBlobStore::Config& config, const std::string& path,
                             std::string_view data) {
  std::string tmp = fmt::format("{}/{}.tmp", config.tmp_dir, RandomHex(16));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoError("create", tmp);
  absl::Status st = WriteAll(fd.get(), data, tmp);
  if (st.ok() && ::fsync(fd.get()) != 0) st = ErrnoError("fsync", tmp);
  if (st.ok() && fd.Close() != 0) st = ErrnoError("close", tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = ErrnoError("rename", tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncPath(std::filesystem::path(path).parent_path().string());
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError("open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat", path);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  RETURN_IF_ERROR(PreadAll(fd.get(), &out, 0, path));
  return out;
}

struct BlobPath {
  std::string dir;   // blobs/ab/cd
  std::string file;  // blobs/ab/cd/<name>
  std::string name;
};

BlobPath PathFor(const LocalBlobStore::Config& config, std::string_view id) {
  BlobPath p;
  p.name = blob_internal::BlobFileName(config.keys, id);
  p.dir = fmt::format("{}/{}/{}", config.blobs_dir, p.name.substr(0, 2), p.name.substr(2, 2));
  p.file = fmt::format("{}/{}", p.dir, p.name);
  return p;
}

absl::Status CheckId(std::string_view id) {
  if (blob_internal::IsValidBlobId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("invalid blob id '{}': want 64 lower-case hex characters", id));
}

// An opened blob file whose header and length have been verified.
struct OpenedBlob {
  Fd fd;
  std::string path;
  BlobHeader header;
};

// Reads and authenticates the header of the file named `name`, and checks that the file's
// length is the one the header implies. `expected_id` (hex) is checked if non-empty.
absl::StatusOr<OpenedBlob> OpenVerified(const LocalBlobStore::Config& config,
                                        const std::string& path, const std::string& name,
                                        std::string_view expected_id) {
  OpenedBlob blob;
  blob.path = path;
  blob.fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (blob.fd.get() < 0) {
    if (errno == ENOENT) return absl::NotFoundError(fmt::format("no blob {}", expected_id));
    return ErrnoError("open", path);
  }
  std::string header_bytes(kHeaderSize, '\0');
  RETURN_IF_ERROR(PreadAll(blob.fd.get(), &header_bytes, 0, path));
  ASSIGN_OR_RETURN(blob.header, blob_internal::DecodeHeader(header_bytes, config.keys, name));
  if (blob_internal::BlobFileName(config.keys, HexEncode(blob.header.id_raw)) != name ||
      (!expected_id.empty() && HexEncode(blob.header.id_raw) != expected_id)) {
    return absl::DataLossError(fmt::format("blob file {} holds another blob", path));
  }
  struct stat st;
  if (::fstat(blob.fd.get(), &st) != 0) return ErrnoError("stat", path);
  BlobLayout layout{blob.header.chunk_size, blob.header.size};
  if (static_cast<uint64_t>(st.st_size) != layout.file_size()) {
    return absl::DataLossError(
        fmt::format("blob file {} has {} bytes, expected {} (truncated or extended)", path,
                    st.st_size, layout.file_size()));
  }
  return blob;
}

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(OpenedBlob blob, uint64_t offset, uint64_t length)
      : fd_(std::move(blob.fd)),
        path_(std::move(blob.path)),
        layout_{blob.header.chunk_size, blob.header.size},
        cipher_(std::move(blob.header.data_key), std::move(blob.header.nonce_prefix)),
        pos_(offset),
        end_(offset + length),
        length_(length) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    RETURN_IF_ERROR(status_);
    size_t done = 0;
    while (done < n && pos_ < end_) {
      uint64_t index = pos_ / layout_.chunk_size;
      if (!loaded_ || index != loaded_index_) {
        status_ = LoadChunk(index);
        RETURN_IF_ERROR(status_);
      }
      uint64_t in_chunk = pos_ - index * layout_.chunk_size;
      size_t take = static_cast<size_t>(
          std::min<uint64_t>({n - done, plain_.size() - in_chunk, end_ - pos_}));
      std::memcpy(buf + done, plain_.data() + in_chunk, take);
      done += take;
      pos_ += take;
    }
    return done;
  }

  uint64_t size() const override { return length_; }

 private:
  absl::Status LoadChunk(uint64_t index) {
    loaded_ = false;
    sealed_.resize(layout_.chunk_plain_size(index) + kTagSize);
    RETURN_IF_ERROR(PreadAll(fd_.get(), &sealed_, layout_.chunk_offset(index), path_));
    bool final = index + 1 == layout_.num_chunks();
    RETURN_IF_ERROR(cipher_.Open(index, final, layout_.size, sealed_, &plain_));
    loaded_ = true;
    loaded_index_ = index;
    return absl::OkStatus();
  }

  Fd fd_;
  std::string path_;
  BlobLayout layout_;
  ChunkCipher cipher_;
  uint64_t pos_;
  uint64_t end_;
  uint64_t length_;
  std::string sealed_;  // one chunk of ciphertext
  std::string plain_;   // the same chunk decrypted
  bool loaded_ = false;
  uint64_t loaded_index_ = 0;
  absl::Status status_;  // sticky: once tampering is seen, every later Read fails
};

class LocalBlobWriter final : public BlobWriter {
 public:
  static absl::StatusOr<BlobWriterPtr> Create(
      std::shared_ptr<const LocalBlobStore::Config> config) {
    std::string tmp = fmt::format("{}/{}.tmp", config->tmp_dir, RandomHex(16));
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) return ErrnoError("create", tmp);
    auto writer = std::unique_ptr<LocalBlobWriter>(
        new LocalBlobWriter(std::move(config), std::move(fd), tmp));
    // Room for the header, which is written last (the id and size are known only then).
    absl::Status st = WriteAll(writer->fd_.get(), std::string(kHeaderSize, '\0'), tmp);
    if (!st.ok()) return st;  // the writer's destructor removes the temp file
    return writer;
  }

  ~LocalBlobWriter() override {
    if (!committed_) {
      fd_.Reset();
      ::unlink(tmp_path_.c_str());
    }
  }

  absl::Status Write(std::string_view data) override {
    if (finished_) return absl::FailedPreconditionError("blob writer is already committed");
    RETURN_IF_ERROR(status_);
    hasher_->Update(data);
    bytes_written_ += data.size();
    while (!data.empty()) {
      // A full buffer is sealed only once more data arrives: until then it may be the final
      // chunk, whose AAD differs.
      if (plain_.size() == config_->chunk_size) {
        status_ = FlushChunk(/*final=*/false);
        RETURN_IF_ERROR(status_);
      }
      size_t take = std::min<size_t>(data.size(), config_->chunk_size - plain_.size());
      plain_.append(data.data(), take);
      data.remove_prefix(take);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<BlobInfo> Commit() override {
    if (finished_) return absl::FailedPreconditionError("blob writer is already committed");
    finished_ = true;
    RETURN_IF_ERROR(status_);
    BlobInfo info{HexEncode(hasher_->Final()), bytes_written_};
    RETURN_IF_ERROR(FlushChunk(/*final=*/true));
    BlobPath path = PathFor(*config_, info.id);
    header_.size = bytes_written_;
    header_.id_raw = *HexDecode(info.id);
    std::string header = blob_internal::EncodeHeader(header_, config_->keys, path.name);
    RETURN_IF_ERROR(PwriteAll(fd_.get(), header, 0, tmp_path_));
    if (::fsync(fd_.get()) != 0) return ErrnoError("fsync", tmp_path_);
    if (fd_.Close() != 0) return ErrnoError("close", tmp_path_);

    RETURN_IF_ERROR(EnsureDir(std::filesystem::path(path.dir).parent_path().string()));
    RETURN_IF_ERROR(EnsureDir(path.dir));
    // Same content already stored: keep the existing file. (A concurrent writer of the same
    // content may have renamed it but not yet synced the directory, so sync it regardless.)
    struct stat st;
    if (::stat(path.file.c_str(), &st) != 0) {
      if (::rename(tmp_path_.c_str(), path.file.c_str()) != 0) {
        return ErrnoError("rename", tmp_path_);
      }
      committed_ = true;
    }
    RETURN_IF_ERROR(FsyncPath(path.dir));
    if (!committed_) {
      ::unlink(tmp_path_.c_str());
      committed_ = true;
    }
    return info;
  }

  uint64_t bytes_written() const override { return bytes_written_; }

 private:
  LocalBlobWriter(std::shared_ptr<const LocalBlobStore::Config> config, Fd fd, std::string tmp)
      : config_(std::move(config)),
        fd_(std::move(fd)),
        tmp_path_(std::move(tmp)),
        hasher_(Hasher::Create("sha256")),
        cipher_(header_.data_key, header_.nonce_prefix) {
    header_.chunk_size = config_->chunk_size;
    plain_.reserve(config_->chunk_size);
  }

  absl::Status FlushChunk(bool final) {
    RETURN_IF_ERROR(cipher_.Seal(chunk_index_, final, bytes_written_, plain_, &sealed_));
    RETURN_IF_ERROR(WriteAll(fd_.get(), sealed_, tmp_path_));
    ++chunk_index_;
    plain_.clear();
    return absl::OkStatus();
  }

  std::shared_ptr<const LocalBlobStore::Config> config_;
  Fd fd_;
  std::string tmp_path_;
  std::unique_ptr<Hasher> hasher_;
  // A fresh data key and nonce prefix per blob; declared before cipher_, which copies them.
  BlobHeader header_{RandomBytes(blob_internal::kDataKeySize),
                     RandomBytes(blob_internal::kNoncePrefixSize), 0, 0, ""};
  ChunkCipher cipher_;
  std::string plain_;   // the current, not yet sealed chunk
  std::string sealed_;  // scratch for the sealed chunk
  uint64_t chunk_index_ = 0;
  uint64_t bytes_written_ = 0;
  absl::Status status_;  // sticky write error
  bool finished_ = false;
  bool committed_ = false;
};

}  // namespace

LocalBlobStore::LocalBlobStore(std::shared_ptr<const Config> config) : config_(std::move(config)) {}

absl::StatusOr<BlobStorePtr> LocalBlobStore::Create(const LocalBlobStoreOptions& options) {
  if (options.root.empty()) return absl::InvalidArgumentError("blob store root is empty");
  if (options.master_key.size() != kAeadKeySize) {
    return absl::InvalidArgumentError("blob store master key must be 32 bytes");
  }
  if (options.chunk_size == 0 || options.chunk_size > blob_internal::kMaxChunkSize) {
    return absl::InvalidArgumentError("blob store chunk size must be 1 byte .. 64 MiB");
  }
  auto config = std::make_shared<Config>();
  config->root = options.root;
  config->blobs_dir = options.root + "/blobs";
  config->tmp_dir = options.root + "/tmp";
  config->keys = blob_internal::DeriveBlobKeys(options.master_key);
  config->chunk_size = options.chunk_size;

  std::error_code ec;
  std::filesystem::create_directories(config->root, ec);
  if (ec) return absl::InternalError(fmt::format("create {}: {}", config->root, ec.message()));
  RETURN_IF_ERROR(EnsureDir(config->blobs_dir));
  RETURN_IF_ERROR(EnsureDir(config->tmp_dir));

  // Crash recovery: anything in tmp/ belongs to a writer that never committed.
  for (const auto& entry : std::filesystem::directory_iterator(config->tmp_dir, ec)) {
    std::error_code rm_ec;
    std::filesystem::remove_all(entry.path(), rm_ec);
    if (rm_ec)
      spdlog::warn("blob store: cannot remove {}: {}", entry.path().string(), rm_ec.message());
  }
  if (ec) return absl::InternalError(fmt::format("list {}: {}", config->tmp_dir, ec.message()));

  // A wrong master key would otherwise look like an empty store (file names are keyed).
  std::string key_check = config->root + "/key-check";
  std::string_view aad = "key-check";
  if (std::filesystem::exists(key_check, ec)) {
    ASSIGN_OR_RETURN(std::string sealed, ReadSmallFile(key_check));
    auto opened = AeadOpen(config->keys.wrap_key, sealed, aad);
    if (!opened.ok() || *opened != kKeyCheckPlaintext) {
      return absl::DataLossError(fmt::format(
          "blob store {}: the master key is not the one it was created with", config->root));
    }
  } else {
    RETURN_IF_ERROR(WriteFileAtomic(*config, key_check,
                                    AeadSeal(config->keys.wrap_key, kKeyCheckPlaintext, aad)));
  }
  return BlobStorePtr(new LocalBlobStore(std::move(config)));
}

absl::StatusOr<BlobWriterPtr> LocalBlobStore::NewWriter() {
  return LocalBlobWriter::Create(config_);
}

absl::StatusOr<BlobReaderPtr> LocalBlobStore::Open(std::string_view id, uint64_t offset,
                                                   std::optional<uint64_t> length) {
  RETURN_IF_ERROR(CheckId(id));
  BlobPath path = PathFor(*config_, id);
  ASSIGN_OR_RETURN(OpenedBlob blob, OpenVerified(*config_, path.file, path.name, id));
  uint64_t size = blob.header.size;
  if (offset > size) {
    return absl::OutOfRangeError(
        fmt::format("offset {} is past the end of blob {} ({} bytes)", offset, id, size));
  }
  uint64_t len = std::min(length.value_or(size - offset), size - offset);
  return BlobReaderPtr(std::make_unique<LocalBlobReader>(std::move(blob), offset, len));
}

absl::StatusOr<uint64_t> LocalBlobStore::Size(std::string_view id) {
  RETURN_IF_ERROR(CheckId(id));
  BlobPath path = PathFor(*config_, id);
  ASSIGN_OR_RETURN(OpenedBlob blob, OpenVerified(*config_, path.file, path.name, id));
  return blob.header.size;
}

absl::Status LocalBlobStore::Delete(std::string_view id) {
  RETURN_IF_ERROR(CheckId(id));
  BlobPath path = PathFor(*config_, id);
  if (::unlink(path.file.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError("unlink", path.file);
  }
  return FsyncPath(path.dir);
}

absl::StatusOr<std::vector<std::string>> LocalBlobStore::List() {
  std::vector<std::string> ids;
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(config_->blobs_dir, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    std::string name = it->path().filename().string();
    if (!blob_internal::IsValidBlobId(name)) continue;  // HMAC names have the same shape
    auto blob = OpenVerified(*config_, it->path().string(), name, "");
    if (!blob.ok()) {
      // A concurrent Delete is not an error; anything else is worth an operator's look.
      if (!absl::IsNotFound(blob.status())) {
        spdlog::warn("blob store: skipping {}: {}", it->path().string(), blob.status().ToString());
      }
      continue;
    }
    ids.push_back(HexEncode(blob->header.id_raw));
  }
  if (ec) return absl::InternalError(fmt::format("list {}: {}", config_->blobs_dir, ec.message()));
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace mercato
