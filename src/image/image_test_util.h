// Test helpers for the image pipeline: tars and image archives built in the test with
// libarchive, and a temp dir that cleans up after itself. Test-only.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/json.h"

namespace mercato::testing {

struct TarEntry {
  std::string path{};
  char type = 'f';     // f file, d dir, l symlink, h hard link, c char device
  std::string data{};  // file contents; link target for l and h
  int mode = 0644;
};

inline la_ssize_t AppendCallback(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A tar (gzip-compressed if asked) holding `entries` in order.
inline std::string MakeTar(const std::vector<TarEntry>& entries, bool gzip = false) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, AppendCallback, nullptr);
  for (const auto& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, t.mode);
    archive_entry_set_mtime(e, 1700000000, 0);
    switch (t.type) {
      case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, t.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, t.data.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdevmajor(e, 1);
        archive_entry_set_rdevminor(e, 3);
        break;
      default:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, t.data.size());
    }
    archive_write_header(a, e);
    if (t.type == 'f' && !t.data.empty()) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// A gzip stream of `n` zero bytes wrapped as a single tar member (a decompression bomb).
inline std::string MakeZeroBomb(size_t n) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_open(a, &out, nullptr, AppendCallback, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "zeros");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, n);
  archive_write_header(a, e);
  std::string chunk(1 << 20, '\0');
  for (size_t left = n; left > 0;) {
    size_t k = std::min(left, chunk.size());
    archive_write_data(a, chunk.data(), k);
    left -= k;
  }
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

inline std::string Gunzip(const std::string& gz) {
  std::string out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  archive_read_open_memory(a, gz.data(), gz.size());
  archive_entry* e;
  archive_read_next_header(a, &e);
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(a, buf, sizeof buf)) > 0) out.append(buf, n);
  archive_read_free(a);
  return out;
}

inline std::string Digest(const std::string& data) { return "sha256:" + Sha256Hex(data); }

inline Json MakeConfig(const std::vector<std::string>& diff_ids) {
  return {{"architecture", "amd64"},
          {"os", "linux"},
          {"config",
           {{"Entrypoint", {"/bin/serve"}},
            {"Cmd", {"serve"}},
            {"Env", {"PATH=/usr/bin:/bin", "MODE=test"}},
            {"WorkingDir", "/opt/ml"},
            {"ExposedPorts", {{"8080/tcp", Json::object()}}}}},
          {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// docker-save archive: manifest.json, <hex>.json config, <n>/layer.tar. `layers` are the
// layer files as stored (maybe gzipped); `diff_ids` default to the digests of their
// uncompressed forms. `layer_paths` overrides the names manifest.json lists.
struct DockerArchiveSpec {
  std::vector<std::string> layers{};
  std::vector<std::string> diff_ids{};
  std::vector<std::string> layer_paths{};
};

inline std::string MakeDockerArchive(const DockerArchiveSpec& spec) {
  std::vector<std::string> diff_ids = spec.diff_ids;
  if (diff_ids.empty()) {
    for (const auto& l : spec.layers) diff_ids.push_back(Digest(Gunzip(l)));
  }
  std::string config = MakeConfig(diff_ids).dump();
  std::string config_name = Sha256Hex(config) + ".json";
  std::vector<TarEntry> entries = {{.path = config_name, .data = config}};
  Json layer_names = Json::array();
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    std::string name = std::to_string(i) + "/layer.tar";
    entries.push_back({.path = std::to_string(i), .type = 'd', .mode = 0755});
    entries.push_back({.path = name, .data = spec.layers[i]});
    layer_names.push_back(i < spec.layer_paths.size() ? spec.layer_paths[i] : name);
  }
  Json manifest =
      Json::array({{{"Config", config_name}, {"RepoTags", {"demo:1"}}, {"Layers", layer_names}}});
  entries.push_back({.path = "manifest.json", .data = manifest.dump()});
  return MakeTar(entries);
}

// OCI layout archive with the given (gzip) layers. `mutate` may edit the manifest JSON.
struct OciArchiveSpec {
  std::vector<std::string> layers{};  // gzip-compressed tars
  std::string layer_media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  std::string override_layer_digest{};  // names this digest for layer 0 instead
};

inline std::string MakeOciArchive(const OciArchiveSpec& spec) {
  std::vector<std::string> diff_ids;
  for (const auto& l : spec.layers) diff_ids.push_back(Digest(Gunzip(l)));
  std::string config = MakeConfig(diff_ids).dump();
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", Digest(config)},
                     {"size", config.size()}}},
                   {"layers", Json::array()}};
  std::vector<TarEntry> entries = {
      {.path = "oci-layout", .data = R"({"imageLayoutVersion":"1.0.0"})"},
      {.path = "blobs/sha256/" + Sha256Hex(config), .data = config}};
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    std::string d = Digest(spec.layers[i]);
    if (i == 0 && !spec.override_layer_digest.empty()) d = spec.override_layer_digest;
    manifest["layers"].push_back(
        {{"mediaType", spec.layer_media_type}, {"digest", d}, {"size", spec.layers[i].size()}});
    entries.push_back(
        {.path = "blobs/sha256/" + Sha256Hex(spec.layers[i]), .data = spec.layers[i]});
  }
  std::string m = manifest.dump();
  entries.push_back({.path = "blobs/sha256/" + Sha256Hex(m), .data = m});
  Json index = {{"schemaVersion", 2},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", Digest(m)},
                   {"size", m.size()},
                   {"annotations", {{"org.opencontainers.image.ref.name", "demo:1"}}}}}}};
  entries.push_back({.path = "index.json", .data = index.dump()});
  return MakeTar(entries);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mercato-image-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    // Make everything removable first (tests create read-only files).
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
      }
    }
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace mercato::testing
