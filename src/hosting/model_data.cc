#include "hosting/model_data.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "base/json.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::hosting {
namespace fs = std::filesystem;
namespace {

absl::Status Failed(std::string message) {
  return absl::FailedPreconditionError(std::move(message));
}

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

// Rejects absolute paths and ".." components (libarchive's secure flags also do; this gives
// the caller a clear message).
bool SafeMemberPath(std::string_view p) {
  if (p.empty() || p[0] == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

absl::Status ExtractArchiveSafely(const std::string& archive_path, const std::string& dest_dir,
                                  const ModelDataLimits& limits) {
  std::unique_ptr<archive, ReadDeleter> in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Failed(fmt::format("cannot read model archive: {}", archive_error_string(in.get())));
  }
  std::unique_ptr<archive, WriteDeleter> out(archive_write_disk_new());
  // Member names are checked above (relative, no ".."); the pathnames handed to the
  // writer are then absolute under dest_dir, so NOABSOLUTEPATHS cannot be used.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  uint64_t total = 0, entries = 0;
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Failed(fmt::format("model data is not a valid .tar.gz archive: {}",
                                archive_error_string(in.get())));
    }
    if (++entries > limits.max_entries) return Failed("model archive has too many entries");
    std::string name = archive_entry_pathname(entry);
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    if (name.empty() || name == ".") continue;
    if (!SafeMemberPath(name)) {
      return Failed(fmt::format("model archive member '{}' escapes the model directory", name));
    }
    mode_t type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) continue;
    if (const char* hl = archive_entry_hardlink(entry)) {
      std::string target = hl;
      while (target.rfind("./", 0) == 0) target.erase(0, 2);
      if (!SafeMemberPath(target)) {
        return Failed(fmt::format("model archive link '{}' escapes the model directory", name));
      }
      archive_entry_set_hardlink(entry, (dest_dir + "/" + target).c_str());
    }
    if (type == AE_IFREG) {
      total += static_cast<uint64_t>(std::max<int64_t>(0, archive_entry_size(entry)));
      if (total > limits.max_total_bytes) return Failed("model archive is too large");
    }
    archive_entry_set_pathname(entry, (dest_dir + "/" + name).c_str());
    archive_entry_set_perm(entry,
                           (archive_entry_perm(entry) & 0777) | (type == AE_IFDIR ? 0700 : 0400));
    archive_entry_set_uid(entry, 0);
    archive_entry_set_gid(entry, 0);
    r = archive_write_header(out.get(), entry);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Failed(fmt::format("cannot extract model member '{}': {}", name,
                                archive_error_string(out.get())));
    }
    if (type == AE_IFREG) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      uint64_t written = 0;
      while ((r = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
        written += size;
        if (written > limits.max_total_bytes) return Failed("model archive is too large");
        if (archive_write_data_block(out.get(), buf, size, offset) != ARCHIVE_OK) {
          return Failed(fmt::format("cannot write model member '{}': {}", name,
                                    archive_error_string(out.get())));
        }
      }
      if (r != ARCHIVE_EOF) {
        return Failed(fmt::format("model archive is truncated or corrupt at '{}': {}", name,
                                  archive_error_string(in.get())));
      }
    }
    archive_write_finish_entry(out.get());
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return Failed(
        fmt::format("cannot finish model extraction: {}", archive_error_string(out.get())));
  }
  return absl::OkStatus();
}

absl::Status ModelDataFetcher::Fetch(std::string_view account_id, std::string_view url,
                                     const std::string& dest_dir) {
  std::string not_found = fmt::format("Could not find model data at {}.", url);
  if (url.rfind("s3://", 0) != 0) return Failed(not_found);
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return Failed(not_found);
  std::string bucket(rest.substr(0, slash)), key(rest.substr(slash + 1));
  ASSIGN_OR_RETURN(SqlRows owner,
                   store_.Query("SELECT account_id FROM buckets WHERE name = ?", {bucket}));
  // Another account's bucket reads exactly like a missing one.
  if (owner.empty() || owner[0].Text(0) != account_id) return Failed(not_found);
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT segments FROM objects WHERE bucket = ? AND "
                                              "object_key = ?",
                                              {bucket, key}));
  if (rows.empty()) return Failed(not_found);
  ASSIGN_OR_RETURN(Json segments, ParseJson(rows[0].Text(0)));

  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", dest_dir, ec.message()));
  std::string tmp = dest_dir + ".download.tar.gz";
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return absl::InternalError(fmt::format("cannot create {}", tmp));
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    std::string buf(1 << 16, '\0');
    for (const Json& seg : segments) {
      ASSIGN_OR_RETURN(BlobReaderPtr reader, blobs_.Open(seg.value("blob", "")));
      while (true) {
        ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
        if (n == 0) break;
        if (::write(fd, buf.data(), n) != static_cast<ssize_t>(n)) {
          return absl::InternalError(fmt::format("cannot write {}", tmp));
        }
      }
    }
  }
  absl::Status s = ExtractArchiveSafely(tmp, dest_dir, limits_);
  ::unlink(tmp.c_str());
  if (!s.ok()) {
    return Failed(fmt::format("Failed to extract model data archive from URL {}: {}", url,
                              std::string(s.message())));
  }
  return absl::OkStatus();
}

}  // namespace mercato::hosting
