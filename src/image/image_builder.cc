#include "image/image_builder.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "base/crypto.h"
#include "base/json.h"
#include "base/status.h"
#include "fmt/format.h"
#include "image/media_types.h"
#include "image/tar_stream.h"

namespace mercato {
namespace {

namespace fs = std::filesystem;
using image_internal::ArchiveEntryPtr;
using image_internal::ArchiveErrorString;
using image_internal::ArchiveWritePtr;

struct BuildEntry {
  std::string path{};  // relative, no leading "/"
  mode_t type = 0;     // AE_IFREG, AE_IFDIR, AE_IFLNK
  mode_t perm = 0;
  std::string host_path{};  // regular files: where the bytes are
  std::string link{};       // symlink target
  std::string hardlink{};   // image path of the first link to the same inode
  uint64_t size = 0;
};

// Receives the uncompressed layer tar from libarchive, hashes it (diff_id) and gzips it
// into a file, hashing the compressed bytes too (the layer digest).
class GzipLayerSink {
 public:
  absl::Status Open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) return absl::InternalError(fmt::format("cannot create '{}'", path));
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      return absl::InternalError("zlib init failed");
    }
    z_open_ = true;
    return absl::OkStatus();
  }
  ~GzipLayerSink() {
    if (z_open_) deflateEnd(&z_);
    if (file_) std::fclose(file_);
  }
  static la_ssize_t Write(archive*, void* self, const void* buf, size_t n) {
    auto* s = static_cast<GzipLayerSink*>(self);
    s->diff_->Update(std::string_view(static_cast<const char*>(buf), n));
    return s->Deflate(buf, n, Z_NO_FLUSH) ? static_cast<la_ssize_t>(n) : -1;
  }
  bool Finish() {
    bool ok = Deflate(nullptr, 0, Z_FINISH);
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    return ok;
  }
  std::string diff_id() { return "sha256:" + HexEncode(diff_->Final()); }
  std::string digest() { return "sha256:" + HexEncode(compressed_->Final()); }
  uint64_t compressed_size() const { return compressed_size_; }

 private:
  bool Deflate(const void* buf, size_t n, int flush) {
    z_.next_in = static_cast<Bytef*>(const_cast<void*>(buf));
    z_.avail_in = static_cast<uInt>(n);
    char out[65536];
    int rc;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(out);
      z_.avail_out = sizeof out;
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return false;
      size_t have = sizeof out - z_.avail_out;
      if (have && std::fwrite(out, 1, have, file_) != have) return false;
      compressed_->Update(std::string_view(out, have));
      compressed_size_ += have;
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return true;
  }

  FILE* file_ = nullptr;
  z_stream z_{};
  bool z_open_ = false;
  std::unique_ptr<Hasher> diff_ = Hasher::Create("sha256");
  std::unique_ptr<Hasher> compressed_ = Hasher::Create("sha256");
  uint64_t compressed_size_ = 0;
};

absl::Status WriteData(archive* a, const std::string& host_path, uint64_t size) {
  std::ifstream in(host_path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read '{}'", host_path));
  std::vector<char> buf(256 * 1024);
  uint64_t left = size;
  while (left > 0) {
    in.read(buf.data(), std::min<uint64_t>(buf.size(), left));
    std::streamsize n = in.gcount();
    if (n <= 0) return absl::InternalError(fmt::format("'{}' shrank while packaging", host_path));
    if (archive_write_data(a, buf.data(), n) != n) {
      return absl::InternalError(fmt::format("tar write failed: {}", ArchiveErrorString(a)));
    }
    left -= n;
  }
  return absl::OkStatus();
}

absl::Status WriteEntries(archive* a, const std::vector<BuildEntry>& entries, int64_t mtime) {
  for (const auto& be : entries) {
    ArchiveEntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), be.path.c_str());
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_uname(e.get(), "root");
    archive_entry_set_gname(e.get(), "root");
    archive_entry_set_mtime(e.get(), mtime, 0);
    archive_entry_set_filetype(e.get(), be.type);
    archive_entry_set_perm(e.get(), be.perm);
    if (!be.hardlink.empty()) {
      archive_entry_set_hardlink(e.get(), be.hardlink.c_str());
      archive_entry_set_size(e.get(), 0);
    } else if (be.type == AE_IFREG) {
      archive_entry_set_size(e.get(), be.size);
    } else if (be.type == AE_IFLNK) {
      archive_entry_set_symlink(e.get(), be.link.c_str());
    }
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
      return absl::InternalError(
          fmt::format("tar header for '{}' failed: {}", be.path, ArchiveErrorString(a)));
    }
    if (be.type == AE_IFREG && be.hardlink.empty()) {
      RETURN_IF_ERROR(WriteData(a, be.host_path, be.size));
    }
  }
  return absl::OkStatus();
}

// Adds a small in-memory file to the outer archive.
absl::Status AddBytes(archive* a, const std::string& path, std::string_view data, int64_t mtime) {
  ArchiveEntryPtr e(archive_entry_new());
  archive_entry_set_pathname(e.get(), path.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), data.size());
  archive_entry_set_mtime(e.get(), mtime, 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK ||
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return absl::InternalError(fmt::format("cannot write '{}': {}", path, ArchiveErrorString(a)));
  }
  return absl::OkStatus();
}

absl::StatusOr<BuiltImage> Build(std::vector<BuildEntry> entries, const ImageBuildOptions& opts,
                                 const std::string& output_path) {
  std::sort(entries.begin(), entries.end(),
            [](const BuildEntry& x, const BuildEntry& y) { return x.path < y.path; });
  std::string layer_tmp = output_path + ".layer.tmp";
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{layer_tmp};

  GzipLayerSink sink;
  RETURN_IF_ERROR(sink.Open(layer_tmp));
  {
    ArchiveWritePtr a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    archive_write_set_bytes_in_last_block(a.get(), 1);
    if (archive_write_open(a.get(), &sink, nullptr, &GzipLayerSink::Write, nullptr) != ARCHIVE_OK) {
      return absl::InternalError(ArchiveErrorString(a.get()));
    }
    RETURN_IF_ERROR(WriteEntries(a.get(), entries, opts.mtime));
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
      return absl::InternalError(fmt::format("layer tar: {}", ArchiveErrorString(a.get())));
    }
  }
  if (!sink.Finish()) return absl::InternalError("cannot write the compressed layer");
  BuiltImage out;
  out.diff_id = sink.diff_id();
  out.layer_digest = sink.digest();
  out.layer_size = sink.compressed_size();

  Json cfg = Json::object();
  if (!opts.entrypoint.empty()) cfg["Entrypoint"] = opts.entrypoint;
  if (!opts.cmd.empty()) cfg["Cmd"] = opts.cmd;
  if (!opts.env.empty()) cfg["Env"] = opts.env;
  if (!opts.working_dir.empty()) cfg["WorkingDir"] = opts.working_dir;
  if (!opts.user.empty()) cfg["User"] = opts.user;
  for (const auto& p : opts.exposed_ports) cfg["ExposedPorts"][p] = Json::object();
  if (!opts.labels.empty()) cfg["Labels"] = opts.labels;
  Json config = {{"architecture", opts.architecture},
                 {"os", opts.os},
                 {"config", cfg},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {out.diff_id}}}},
                 {"history", {{{"created_by", "mercato image build"}}}}};
  std::string config_json = config.dump();
  out.config_digest = "sha256:" + Sha256Hex(config_json);
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifestType},
                   {"config",
                    {{"mediaType", kOciConfigType},
                     {"digest", out.config_digest},
                     {"size", config_json.size()}}},
                   {"layers",
                    {{{"mediaType", kOciLayerGzipType},
                      {"digest", out.layer_digest},
                      {"size", out.layer_size}}}}};
  std::string manifest_json = manifest.dump();
  out.manifest_digest = "sha256:" + Sha256Hex(manifest_json);
  Json desc = {{"mediaType", kOciManifestType},
               {"digest", out.manifest_digest},
               {"size", manifest_json.size()}};
  if (!opts.ref_name.empty()) {
    desc["annotations"] = {{"org.opencontainers.image.ref.name", opts.ref_name}};
  }
  Json index = {{"schemaVersion", 2}, {"mediaType", kOciIndexType}, {"manifests", {desc}}};

  ArchiveWritePtr a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), output_path.c_str()) != ARCHIVE_OK) {
    return absl::InternalError(
        fmt::format("cannot create '{}': {}", output_path, ArchiveErrorString(a.get())));
  }
  RETURN_IF_ERROR(AddBytes(a.get(), "oci-layout",
                           Json({{"imageLayoutVersion", kOciLayoutVersion}}).dump(), opts.mtime));
  RETURN_IF_ERROR(AddBytes(a.get(), "index.json", index.dump(), opts.mtime));
  RETURN_IF_ERROR(AddBytes(a.get(), "blobs/sha256/" + out.manifest_digest.substr(7), manifest_json,
                           opts.mtime));
  RETURN_IF_ERROR(
      AddBytes(a.get(), "blobs/sha256/" + out.config_digest.substr(7), config_json, opts.mtime));
  RETURN_IF_ERROR(WriteEntries(a.get(),
                               {{.path = "blobs/sha256/" + out.layer_digest.substr(7),
                                 .type = AE_IFREG,
                                 .perm = 0644,
                                 .host_path = layer_tmp,
                                 .size = out.layer_size}},
                               opts.mtime));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return absl::InternalError(fmt::format("'{}': {}", output_path, ArchiveErrorString(a.get())));
  }
  return out;
}

}  // namespace

absl::StatusOr<BuiltImage> BuildImageFromDirectory(const std::string& rootfs_dir,
                                                   const ImageBuildOptions& options,
                                                   const std::string& output_path) {
  std::error_code ec;
  if (!fs::is_directory(rootfs_dir, ec)) {
    return absl::NotFoundError(fmt::format("'{}' is not a directory", rootfs_dir));
  }
  std::vector<BuildEntry> entries;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(rootfs_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) return absl::InternalError(fmt::format("cannot walk '{}': {}", rootfs_dir, ec.message()));
  std::sort(paths.begin(), paths.end());  // hard-link order must match entry order
  for (const auto& p : paths) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    BuildEntry be;
    be.path = p.lexically_relative(rootfs_dir).generic_string();  // fs::relative follows symlinks
    be.perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      be.type = AE_IFDIR;
    } else if (S_ISLNK(st.st_mode)) {
      be.type = AE_IFLNK;
      be.link = fs::read_symlink(p, ec).string();
    } else if (S_ISREG(st.st_mode)) {
      be.type = AE_IFREG;
      be.host_path = p.string();
      be.size = st.st_size;
      if (st.st_nlink > 1) {
        auto [it, fresh] = inodes.emplace(std::make_pair(st.st_dev, st.st_ino), be.path);
        if (!fresh) be.hardlink = it->second;
      }
    } else {
      continue;  // sockets, FIFOs, devices
    }
    entries.push_back(std::move(be));
  }
  return Build(std::move(entries), options, output_path);
}

absl::StatusOr<BuiltImage> BuildImageFromFiles(const std::vector<FileMapping>& files,
                                               const ImageBuildOptions& options,
                                               const std::string& output_path) {
  std::vector<BuildEntry> entries;
  std::set<std::string> dirs, seen;
  for (const auto& f : files) {
    auto rel = image_internal::NormalizeMemberPath(
        std::string_view(f.image_path).substr(f.image_path.starts_with("/") ? 1 : 0));
    if (!rel.ok()) return rel.status();
    if (rel->empty()) return absl::InvalidArgumentError("image path '/' is not a file");
    if (!seen.insert(*rel).second) {
      return absl::InvalidArgumentError(fmt::format("image path '{}' given twice", *rel));
    }
    struct stat st;
    if (stat(f.host_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return absl::NotFoundError(fmt::format("'{}' is not a regular file", f.host_path));
    }
    entries.push_back({.path = *rel,
                       .type = AE_IFREG,
                       .perm = f.mode.value_or(st.st_mode & 07777),
                       .host_path = f.host_path,
                       .size = static_cast<uint64_t>(st.st_size)});
    for (size_t slash = rel->find('/'); slash != std::string::npos;
         slash = rel->find('/', slash + 1)) {
      dirs.insert(rel->substr(0, slash));
    }
  }
  for (const auto& d : dirs) {
    if (seen.count(d))
      return absl::InvalidArgumentError(fmt::format("'{}' is both a file and a directory", d));
    entries.push_back({.path = d, .type = AE_IFDIR, .perm = 0755});
  }
  return Build(std::move(entries), options, output_path);
}

}  // namespace mercato
