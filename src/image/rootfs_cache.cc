#include "image/rootfs_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/crypto.h"
#include "base/status.h"
#include "fmt/format.h"
#include "image/tar_stream.h"

namespace mercato {
namespace {

using image_internal::EntryHardlink;
using image_internal::EntryPath;
using image_internal::LayerTarReader;
using image_internal::NormalizeMemberPath;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(fmt::format("{} '{}': {}", what, path, std::strerror(errno)));
}

std::pair<std::string, std::string> SplitParent(const std::string& p) {
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {"", p};
  return {p.substr(0, slash), p.substr(slash + 1)};
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Removes `name` in `dirfd` (recursively for directories) without following symlinks.
absl::Status RemoveAt(int parent, const std::string& name, int depth = 0) {
  struct stat st;
  if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? absl::OkStatus() : Errno("cannot stat", name);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT)
      return Errno("cannot remove", name);
    return absl::OkStatus();
  }
  if (depth > 1024) return absl::InvalidArgumentError("directory tree too deep to remove");
  int fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", name);
  fchmod(fd, st.st_mode | S_IRWXU);  // a read-only directory cannot be emptied
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return Errno("cannot list", name);
  }
  std::vector<std::string> children;
  while (dirent* ent = readdir(d)) {
    if (std::strcmp(ent->d_name, ".") && std::strcmp(ent->d_name, "..")) {
      children.push_back(ent->d_name);
    }
  }
  absl::Status s;
  for (const auto& c : children) {
    s = RemoveAt(::dirfd(d), c, depth + 1);
    if (!s.ok()) break;
  }
  closedir(d);
  RETURN_IF_ERROR(s);
  if (unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Errno("cannot remove", name);
  }
  return absl::OkStatus();
}

class Unpacker {
 public:
  Unpacker(BlobStore& blobs, Fd root, const UnpackLimits& limits)
      : blobs_(blobs), root_(std::move(root)), limits_(limits) {}

  absl::Status Layer(const std::string& blob_id, size_t index) {
    this_layer_.clear();
    ASSIGN_OR_RETURN(auto reader, LayerTarReader::Open(blobs_, blob_id));
    while (true) {
      ASSIGN_OR_RETURN(archive_entry * e, reader->Next());
      if (!e) return absl::OkStatus();
      absl::Status s = Entry(*reader, e);
      if (!s.ok()) {
        return absl::Status(s.code(), fmt::format("layer {}: {}", index, std::string(s.message())));
      }
    }
  }

 private:
  // Opens directory `rel` under the root, one O_NOFOLLOW component at a time, creating
  // missing components when `create`. NotFound if absent and !create.
  absl::StatusOr<Fd> OpenDir(const std::string& rel, bool create) {
    Fd fd(dup(root_.get()));
    if (fd.get() < 0) return Errno("cannot dup", ".");
    std::string walked;
    size_t i = 0;
    while (i < rel.size()) {
      size_t j = rel.find('/', i);
      if (j == std::string::npos) j = rel.size();
      std::string comp = rel.substr(i, j - i);
      walked = Join(walked, comp);
      i = j + 1;
      int next = openat(fd.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && create) {
        if (mkdirat(fd.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
          return Errno("cannot create directory", walked);
        }
        next = openat(fd.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (next < 0) {
        if (errno == ENOENT) return absl::NotFoundError(walked);
        struct stat st;
        if (fstatat(fd.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
          return absl::InvalidArgumentError(
              fmt::format("'{}' would be written through the symlink '{}'", rel, walked));
        }
        return absl::InvalidArgumentError(
            fmt::format("'{}' needs '{}' to be a directory, but it is not", rel, walked));
      }
      fd = Fd(next);
    }
    return fd;
  }

  absl::Status Entry(LayerTarReader& reader, archive_entry* e) {
    if (++entries_ > limits_.max_entries) {
      return absl::InvalidArgumentError(
          fmt::format("image has more than {} files", limits_.max_entries));
    }
    ASSIGN_OR_RETURN(std::string path, NormalizeMemberPath(EntryPath(e)));
    if (path.empty()) return absl::OkStatus();  // the root itself
    auto [parent, name] = SplitParent(path);
    if (name.starts_with(".wh.")) return Whiteout(parent, name);
    ASSIGN_OR_RETURN(Fd dir, OpenDir(parent, /*create=*/true));
    this_layer_.insert(path);
    std::string hard = EntryHardlink(e);
    if (!hard.empty()) return HardLink(dir.get(), path, name, hard);
    mode_t perm = archive_entry_perm(e) & 0777;  // no setuid, setgid or sticky
    switch (archive_entry_filetype(e)) {
      case AE_IFDIR:
        return Directory(dir.get(), path, name, perm | S_IRWXU);
      case AE_IFREG:
        return File(reader, e, dir.get(), path, name, perm);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        RETURN_IF_ERROR(RemoveAt(dir.get(), name));
        if (symlinkat(target ? target : "", dir.get(), name.c_str()) != 0) {
          return Errno("cannot create symlink", path);
        }
        return absl::OkStatus();
      }
      default:
        return absl::OkStatus();  // devices, FIFOs, sockets: never created
    }
  }

  absl::Status Whiteout(const std::string& parent, const std::string& name) {
    auto dir = OpenDir(parent, /*create=*/false);
    if (absl::IsNotFound(dir.status())) return absl::OkStatus();  // nothing below to hide
    if (!dir.ok()) return dir.status();
    if (name == ".wh..wh..opq") return ClearLower(dir->get(), parent, 0);
    if (name.starts_with(".wh..wh.")) return absl::OkStatus();  // aufs bookkeeping
    std::string victim = name.substr(4);
    if (victim.empty() || victim == "." || victim == "..") {
      return absl::InvalidArgumentError(fmt::format("invalid whiteout '{}'", Join(parent, name)));
    }
    return RemoveAt(dir->get(), victim);
  }

  // Opaque directory: removes what lower layers put below `rel`, keeping this layer's.
  absl::Status ClearLower(int dir, const std::string& rel, int depth) {
    if (depth > 1024) return absl::InvalidArgumentError("directory tree too deep");
    int fd = dup(dir);
    DIR* d = fd >= 0 ? fdopendir(fd) : nullptr;
    if (!d) {
      if (fd >= 0) close(fd);
      return Errno("cannot list", rel);
    }
    std::vector<std::string> children;
    while (dirent* ent = readdir(d)) {
      if (std::strcmp(ent->d_name, ".") && std::strcmp(ent->d_name, "..")) {
        children.push_back(ent->d_name);
      }
    }
    closedir(d);
    for (const auto& c : children) {
      std::string child = Join(rel, c);
      if (!this_layer_.count(child)) {
        RETURN_IF_ERROR(RemoveAt(dir, c));
        continue;
      }
      int sub = openat(dir, c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;  // a file this layer wrote: keep
      Fd sub_fd(sub);
      RETURN_IF_ERROR(ClearLower(sub_fd.get(), child, depth + 1));
    }
    return absl::OkStatus();
  }

  absl::Status Directory(int dirfd, const std::string& path, const std::string& name, mode_t mode) {
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(RemoveAt(dirfd, name));
    }
    if (mkdirat(dirfd, name.c_str(), mode) != 0 && errno != EEXIST) {
      return Errno("cannot create directory", path);
    }
    Fd fd(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0 || fchmod(fd.get(), mode) != 0) return Errno("cannot chmod", path);
    return absl::OkStatus();
  }

  absl::Status File(LayerTarReader& reader, archive_entry* e, int dirfd, const std::string& path,
                    const std::string& name, mode_t perm) {
    int64_t size = archive_entry_size(e);
    if (size < 0 || static_cast<uint64_t>(size) > limits_.max_total_bytes - bytes_) {
      return absl::InvalidArgumentError(fmt::format("image unpacks to more than {} bytes (at '{}')",
                                                    limits_.max_total_bytes, path));
    }
    bytes_ += size;
    RETURN_IF_ERROR(RemoveAt(dirfd, name));
    Fd fd(openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return Errno("cannot create", path);
    while (true) {
      const void* data;
      size_t n;
      int64_t offset;
      ASSIGN_OR_RETURN(bool more, reader.ReadBlock(&data, &n, &offset));
      if (!more) break;
      if (offset < 0 || offset + static_cast<int64_t>(n) > size) {
        return absl::InvalidArgumentError(fmt::format("'{}' has data beyond its size", path));
      }
      const char* p = static_cast<const char*>(data);
      while (n > 0) {
        ssize_t w = pwrite(fd.get(), p, n, offset);
        if (w < 0) {
          if (errno == EINTR) continue;
          return Errno("cannot write", path);
        }
        p += w;
        n -= w;
        offset += w;
      }
    }
    if (ftruncate(fd.get(), size) != 0) return Errno("cannot size", path);  // sparse tails
    if (fchmod(fd.get(), perm) != 0) return Errno("cannot chmod", path);
    struct timespec times[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
    futimens(fd.get(), times);
    return absl::OkStatus();
  }

  absl::Status HardLink(int dirfd, const std::string& path, const std::string& name,
                        const std::string& raw_target) {
    auto target = NormalizeMemberPath(raw_target);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("hard link '{}': {}", path, std::string(target.status().message())));
    }
    if (*target == path) return absl::OkStatus();
    auto [tparent, tname] = SplitParent(*target);
    auto tdir = OpenDir(tparent, /*create=*/false);
    struct stat st;
    if (!tdir.ok() || fstatat(tdir->get(), tname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return absl::InvalidArgumentError(
          fmt::format("hard link '{}' targets '{}', which does not exist", path, *target));
    }
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          fmt::format("hard link '{}' targets the directory '{}'", path, *target));
    }
    RETURN_IF_ERROR(RemoveAt(dirfd, name));
    if (linkat(tdir->get(), tname.c_str(), dirfd, name.c_str(), 0) != 0) {
      return Errno("cannot link", path);
    }
    return absl::OkStatus();
  }

  BlobStore& blobs_;
  Fd root_;
  const UnpackLimits limits_;
  uint64_t bytes_ = 0;
  uint64_t entries_ = 0;
  std::set<std::string> this_layer_;  // paths the current layer wrote (opaque dirs keep them)
};

}  // namespace

absl::Status UnpackLayers(BlobStore& blobs, const std::vector<std::string>& layer_blob_ids,
                          const std::string& root_dir, const UnpackLimits& limits) {
  Fd root(open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return Errno("cannot open rootfs directory", root_dir);
  Unpacker unpacker(blobs, std::move(root), limits);
  for (size_t i = 0; i < layer_blob_ids.size(); ++i) {
    RETURN_IF_ERROR(unpacker.Layer(layer_blob_ids[i], i));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RootfsCache>> RootfsCache::Create(BlobStore& blobs,
                                                                 RootfsCacheOptions options) {
  if (options.cache_dir.empty()) return absl::InvalidArgumentError("cache_dir is required");
  std::error_code ec;
  std::filesystem::create_directories(options.cache_dir, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create rootfs cache '{}': {}", options.cache_dir, ec.message()));
  }
  Fd dir(open(options.cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return Errno("cannot open rootfs cache", options.cache_dir);
  for (const auto& ent : std::filesystem::directory_iterator(options.cache_dir, ec)) {
    std::string name = ent.path().filename().string();
    if (name.starts_with(".tmp-")) RETURN_IF_ERROR(RemoveAt(dir.get(), name));
  }
  return std::unique_ptr<RootfsCache>(new RootfsCache(blobs, std::move(options)));
}

absl::StatusOr<std::string> RootfsCache::DirFor(std::string_view digest) const {
  std::string_view hex = digest.substr(digest.starts_with("sha256:") ? 7 : digest.size());
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not an image digest (sha256:<64 hex>)", digest));
  }
  return options_.cache_dir + "/sha256-" + std::string(hex);
}

bool RootfsCache::Contains(std::string_view digest) const {
  auto dir = DirFor(digest);
  std::error_code ec;
  return dir.ok() && std::filesystem::is_directory(*dir + "/rootfs", ec);
}

absl::StatusOr<std::string> RootfsCache::GetRootfs(std::string_view digest,
                                                   const std::vector<std::string>& layer_blob_ids) {
  ASSIGN_OR_RETURN(std::string dir, DirFor(digest));
  std::string rootfs = dir + "/rootfs";
  {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return !in_flight_.count(dir); });
    if (Contains(digest)) return rootfs;
    in_flight_.insert(dir);
  }
  absl::Status s = Unpack(dir, layer_blob_ids);
  {
    std::lock_guard lock(mu_);
    in_flight_.erase(dir);
  }
  done_.notify_all();
  RETURN_IF_ERROR(s);
  return rootfs;
}

absl::Status RootfsCache::Unpack(const std::string& final_dir,
                                 const std::vector<std::string>& layers) {
  std::string tmp_name = ".tmp-" + RandomHex(8);
  std::string tmp = options_.cache_dir + "/" + tmp_name;
  if (mkdir(tmp.c_str(), 0755) != 0) return Errno("cannot create", tmp);
  absl::Status s;
  if (mkdir((tmp + "/rootfs").c_str(), 0755) != 0) {
    s = Errno("cannot create", tmp + "/rootfs");
  } else {
    s = UnpackLayers(blobs_, layers, tmp + "/rootfs", options_.limits);
  }
  if (s.ok() && rename(tmp.c_str(), final_dir.c_str()) != 0) {
    // Another process may have finished the same digest first; its result is equally good.
    if (errno != EEXIST && errno != ENOTEMPTY) s = Errno("cannot rename into", final_dir);
  }
  struct stat st;
  if (stat(tmp.c_str(), &st) == 0) {
    Fd cache(open(options_.cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    (void)RemoveAt(cache.get(), tmp_name);
  }
  return s;
}

absl::Status RootfsCache::Remove(std::string_view digest) {
  ASSIGN_OR_RETURN(std::string dir, DirFor(digest));
  std::lock_guard lock(mu_);
  std::string tmp_name = ".tmp-" + RandomHex(8);
  if (rename(dir.c_str(), (options_.cache_dir + "/" + tmp_name).c_str()) != 0) {
    return errno == ENOENT ? absl::OkStatus() : Errno("cannot evict", dir);
  }
  Fd cache(open(options_.cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return RemoveAt(cache.get(), tmp_name);
}

}  // namespace mercato
