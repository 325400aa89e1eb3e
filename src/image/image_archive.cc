#include "image/image_archive.h"

#include <filesystem>
#include <optional>
#include <set>

#include "base/crypto.h"
#include "base/status.h"
#include "fmt/format.h"
#include "image/ingest_layers.h"
#include "image/media_types.h"
#include "image/tar_stream.h"

namespace mercato {
namespace {

using image_internal::ArchiveErrorString;
using image_internal::ArchiveReadPtr;
using image_internal::EntryHardlink;
using image_internal::EntryPath;
using image_internal::NormalizeMemberPath;

constexpr size_t kMaxJsonBytes = 4 << 20;   // a manifest or config larger than this is refused
constexpr size_t kMaxKeptBytes = 64 << 20;  // all JSON documents kept from pass 1
constexpr size_t kBufSize = 256 * 1024;

absl::Status Invalid(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

// What pass 1 learns about the archive: small JSON documents by path, every regular
// file's size, and links (which old `docker save` uses for shared layers).
struct ArchiveIndex {
  std::map<std::string, std::string> json;
  std::map<std::string, uint64_t> files;
  std::map<std::string, std::string> aliases;

  std::string Resolve(std::string p) const {
    for (int i = 0; i < 16; ++i) {
      auto it = aliases.find(p);
      if (it == aliases.end()) break;
      p = it->second;
    }
    return p;
  }
};

absl::StatusOr<ArchiveReadPtr> OpenOuter(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(fmt::format("image archive '{}' does not exist", path));
  }
  ArchiveReadPtr a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), kBufSize) != ARCHIVE_OK) {
    return Invalid(fmt::format("cannot read image archive: {}", ArchiveErrorString(a.get())));
  }
  return a;
}

// Reads the next outer entry and its normalized path; nullopt at the end.
absl::StatusOr<std::optional<std::pair<archive_entry*, std::string>>> NextOuter(archive* a) {
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(a, &e);
  if (rc == ARCHIVE_EOF) return std::nullopt;
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
    return Invalid(fmt::format("image archive is not a valid tar: {}", ArchiveErrorString(a)));
  }
  auto p = NormalizeMemberPath(EntryPath(e));
  if (!p.ok()) return Invalid(fmt::format("image archive: {}", std::string(p.status().message())));
  return std::make_optional(std::make_pair(e, *p));
}

absl::StatusOr<ArchiveIndex> IndexArchive(const std::string& path) {
  ASSIGN_OR_RETURN(ArchiveReadPtr a, OpenOuter(path));
  ArchiveIndex idx;
  size_t kept = 0;
  while (true) {
    ASSIGN_OR_RETURN(auto next, NextOuter(a.get()));
    if (!next) break;
    auto [e, p] = *next;
    std::string hard = EntryHardlink(e);
    if (!hard.empty()) {
      auto t = NormalizeMemberPath(hard);
      if (t.ok()) idx.aliases[p] = *t;
      continue;
    }
    if (archive_entry_filetype(e) == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      std::string dir = std::filesystem::path(p).parent_path().string();
      std::string joined =
          target && target[0] == '/' ? std::string(target + 1) : dir + "/" + (target ? target : "");
      // Resolve ".." lexically; a link pointing outside the archive is simply ignored.
      auto t = NormalizeMemberPath(std::filesystem::path(joined).lexically_normal().string());
      if (t.ok()) idx.aliases[p] = *t;
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    uint64_t size = archive_entry_size(e);
    idx.files[p] = size;
    if (size > kMaxJsonBytes || kept + size > kMaxKeptBytes) continue;
    std::string data;
    char buf[16384];
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) {
        return Invalid(fmt::format("image archive is truncated or corrupt at '{}': {}", p,
                                   ArchiveErrorString(a.get())));
      }
      if (n == 0) break;
      data.append(buf, n);
    }
    size_t first = data.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (data[first] == '{' || data[first] == '[')) {
      kept += data.size();
      idx.json[p] = std::move(data);
    }
  }
  return idx;
}

// "sha256:<64 hex>" -> hex; anything else is refused by name.
absl::StatusOr<std::string> DigestHex(const Json& d, std::string_view what) {
  if (!d.is_string()) return Invalid(fmt::format("{} has no digest", what));
  std::string s = d.get<std::string>();
  if (s.rfind("sha256:", 0) != 0) {
    return Invalid(
        fmt::format("{} has unsupported digest '{}' (only sha256 is accepted)", what, s));
  }
  std::string hex = s.substr(7);
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Invalid(fmt::format("{} has malformed digest '{}'", what, s));
  }
  return hex;
}

std::string Sha256Digest(std::string_view data) { return "sha256:" + Sha256Hex(data); }

absl::StatusOr<Json> ParseJsonDoc(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Invalid(fmt::format("{} is not valid JSON", what));
  return j;
}

// The JSON blob a descriptor names, verified against its digest and size.
absl::StatusOr<std::string> ReadJsonBlob(const ArchiveIndex& idx, const Json& desc,
                                         std::string_view what) {
  if (!desc.is_object()) return Invalid(fmt::format("{} descriptor is not an object", what));
  ASSIGN_OR_RETURN(std::string hex, DigestHex(desc.value("digest", Json()), what));
  std::string path = idx.Resolve("blobs/sha256/" + hex);
  auto it = idx.json.find(path);
  if (it == idx.json.end()) {
    if (idx.files.count(path)) {
      return Invalid(fmt::format("{} blob sha256:{} is too large or not JSON", what, hex));
    }
    return Invalid(fmt::format("{} names blob sha256:{} which is not in the archive", what, hex));
  }
  if (Sha256Hex(it->second) != hex) {
    return Invalid(fmt::format("{} blob sha256:{} does not match its digest (got sha256:{})", what,
                               hex, Sha256Hex(it->second)));
  }
  if (desc.contains("size") && desc["size"].is_number_integer() &&
      desc["size"].get<int64_t>() != static_cast<int64_t>(it->second.size())) {
    return Invalid(fmt::format("{} blob sha256:{} has size {} but its descriptor says {}", what,
                               hex, it->second.size(), desc["size"].get<int64_t>()));
  }
  return it->second;
}

struct LayerPlan {
  std::string path;             // archive member holding the layer
  std::string media_type;       // as declared ("" for docker-save)
  std::string expected_digest;  // of the bytes as received, "" when unknown
  int64_t expected_size = -1;
  std::string diff_id;  // from the config
  LayerCompression compression = LayerCompression::kAny;
};

struct Plan {
  std::string format;
  std::string manifest_json;  // empty for docker-save: synthesized after pass 2
  std::string config_json;
  std::vector<LayerPlan> layers;
  std::vector<std::string> ref_names;
};

// Fills diff_ids from the config and checks it describes as many layers as the manifest.
absl::Status ApplyConfig(const std::string& config_json, Plan& plan) {
  ASSIGN_OR_RETURN(Json config, ParseJsonDoc(config_json, "image config"));
  if (!config.is_object()) return Invalid("image config is not a JSON object");
  Json diff_ids = config.contains("rootfs") && config["rootfs"].is_object()
                      ? config["rootfs"].value("diff_ids", Json())
                      : Json();
  if (!diff_ids.is_array()) return Invalid("image config has no rootfs.diff_ids");
  if (diff_ids.size() != plan.layers.size()) {
    return Invalid(fmt::format("image config lists {} diff_ids but the manifest has {} layers",
                               diff_ids.size(), plan.layers.size()));
  }
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    ASSIGN_OR_RETURN(std::string hex, DigestHex(diff_ids[i], fmt::format("config diff_id {}", i)));
    plan.layers[i].diff_id = "sha256:" + hex;
  }
  plan.config_json = config_json;
  return absl::OkStatus();
}

absl::Status CheckLayersPresent(const ArchiveIndex& idx, Plan& plan, std::string_view who) {
  for (auto& l : plan.layers) {
    std::string resolved = idx.Resolve(l.path);
    if (!idx.files.count(resolved)) {
      return Invalid(fmt::format("{} names layer '{}' which is not in the archive", who, l.path));
    }
    l.path = resolved;
  }
  return absl::OkStatus();
}

// Picks the image manifest descriptor from an index, descending into one nested index.
absl::StatusOr<Json> PickManifest(const ArchiveIndex& idx, const Json& index,
                                  const IngestOptions& options, Plan& plan, int depth) {
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array() ||
      index["manifests"].empty()) {
    return Invalid("index.json lists no manifests");
  }
  const Json* chosen = nullptr;
  for (const Json& d : index["manifests"]) {
    std::string ref;
    if (d.contains("annotations") && d["annotations"].is_object()) {
      ref = d["annotations"].value("org.opencontainers.image.ref.name", "");
    }
    if (!ref.empty()) plan.ref_names.push_back(ref);
    if (!options.ref_name.empty() && ref == options.ref_name && !chosen) chosen = &d;
  }
  if (!chosen) {
    for (const Json& d : index["manifests"]) {
      const Json platform = d.value("platform", Json::object());
      if (platform.is_object() && platform.value("os", "linux") == "linux" &&
          platform.value("architecture", "amd64") == "amd64") {
        chosen = &d;
        break;
      }
    }
  }
  if (!chosen) chosen = &index["manifests"][0];
  std::string mt = chosen->value("mediaType", "");
  if (IsIndexMediaType(mt)) {
    if (depth > 0) return Invalid("nested image indexes deeper than one level are not supported");
    ASSIGN_OR_RETURN(std::string text, ReadJsonBlob(idx, *chosen, "nested index"));
    ASSIGN_OR_RETURN(Json nested, ParseJsonDoc(text, "nested index"));
    return PickManifest(idx, nested, options, plan, depth + 1);
  }
  if (!mt.empty() && !IsManifestMediaType(mt)) {
    return Invalid(fmt::format("unsupported manifest media type '{}'", mt));
  }
  return *chosen;
}

absl::StatusOr<Plan> PlanOci(const ArchiveIndex& idx, const IngestOptions& options) {
  Plan plan;
  plan.format = "oci-archive";
  ASSIGN_OR_RETURN(Json layout, ParseJsonDoc(idx.json.at("oci-layout"), "oci-layout"));
  std::string version = layout.is_object() ? layout.value("imageLayoutVersion", "") : "";
  if (version.rfind("1.", 0) != 0) {
    return Invalid(fmt::format("unsupported OCI layout version '{}'", version));
  }
  ASSIGN_OR_RETURN(Json index, ParseJsonDoc(idx.json.at("index.json"), "index.json"));
  ASSIGN_OR_RETURN(Json desc, PickManifest(idx, index, options, plan, 0));
  ASSIGN_OR_RETURN(plan.manifest_json, ReadJsonBlob(idx, desc, "manifest"));
  ASSIGN_OR_RETURN(Json manifest, ParseJsonDoc(plan.manifest_json, "manifest"));
  if (!manifest.is_object() || manifest.value("schemaVersion", 0) != 2) {
    return Invalid("manifest is not an image manifest with schemaVersion 2");
  }
  if (manifest.contains("mediaType") && !IsManifestMediaType(manifest.value("mediaType", ""))) {
    return Invalid(
        fmt::format("unsupported manifest media type '{}'", manifest.value("mediaType", "")));
  }
  const Json config_desc = manifest.value("config", Json());
  std::string config_mt = config_desc.is_object() ? config_desc.value("mediaType", "") : "";
  if (!IsConfigMediaType(config_mt)) {
    return Invalid(fmt::format("unsupported image config media type '{}'", config_mt));
  }
  ASSIGN_OR_RETURN(std::string config_json, ReadJsonBlob(idx, config_desc, "image config"));
  const Json layers = manifest.value("layers", Json());
  if (!layers.is_array()) return Invalid("manifest has no layers array");
  for (size_t i = 0; i < layers.size(); ++i) {
    const Json& l = layers[i];
    std::string what = fmt::format("layer {}", i);
    if (!l.is_object()) return Invalid(what + " descriptor is not an object");
    LayerPlan lp;
    lp.media_type = l.value("mediaType", "");
    auto compression = LayerCompressionFor(lp.media_type);
    if (!compression) {
      return Invalid(fmt::format("{} has unsupported media type '{}'", what, lp.media_type));
    }
    lp.compression = *compression;
    ASSIGN_OR_RETURN(std::string hex, DigestHex(l.value("digest", Json()), what));
    lp.expected_digest = "sha256:" + hex;
    lp.expected_size = l.value("size", int64_t{-1});
    lp.path = "blobs/sha256/" + hex;
    plan.layers.push_back(std::move(lp));
  }
  RETURN_IF_ERROR(ApplyConfig(config_json, plan));
  RETURN_IF_ERROR(CheckLayersPresent(idx, plan, "manifest"));
  return plan;
}

// The sha256 hex a docker-save member name promises ("<hex>.json", "blobs/sha256/<hex>").
std::string NamedHex(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  if (name.size() == 69 && name.ends_with(".json")) name.resize(64);
  if (name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos) {
    return name;
  }
  return "";
}

absl::StatusOr<Plan> PlanDocker(const ArchiveIndex& idx, const IngestOptions& options) {
  Plan plan;
  plan.format = "docker-archive";
  ASSIGN_OR_RETURN(Json manifest, ParseJsonDoc(idx.json.at("manifest.json"), "manifest.json"));
  if (!manifest.is_array() || manifest.empty()) return Invalid("manifest.json lists no images");
  const Json* chosen = &manifest[0];
  for (const Json& m : manifest) {
    for (const Json& t : m.value("RepoTags", Json::array())) {
      if (!t.is_string()) continue;
      plan.ref_names.push_back(t.get<std::string>());
      if (t.get<std::string>() == options.ref_name) chosen = &m;
    }
  }
  if (!chosen->is_object() || !(*chosen)["Config"].is_string()) {
    return Invalid("manifest.json entry has no Config");
  }
  auto config_path = NormalizeMemberPath((*chosen)["Config"].get<std::string>());
  if (!config_path.ok())
    return Invalid(fmt::format("manifest.json: {}", std::string(config_path.status().message())));
  auto it = idx.json.find(idx.Resolve(*config_path));
  if (it == idx.json.end()) {
    return Invalid(
        fmt::format("manifest.json names config '{}' which is not in the archive", *config_path));
  }
  std::string hex = NamedHex(*config_path);
  if (!hex.empty() && Sha256Hex(it->second) != hex) {
    return Invalid(fmt::format("config '{}' does not match its digest (got sha256:{})",
                               *config_path, Sha256Hex(it->second)));
  }
  const Json layers = chosen->value("Layers", Json());
  if (!layers.is_array()) return Invalid("manifest.json entry has no Layers");
  for (const Json& l : layers) {
    if (!l.is_string()) return Invalid("manifest.json Layers must be strings");
    auto p = NormalizeMemberPath(l.get<std::string>());
    if (!p.ok())
      return Invalid(fmt::format("manifest.json: {}", std::string(p.status().message())));
    LayerPlan lp;
    lp.path = *p;
    std::string h = NamedHex(*p);
    if (!h.empty() && p->rfind("blobs/", 0) == 0) lp.expected_digest = "sha256:" + h;
    plan.layers.push_back(std::move(lp));
  }
  RETURN_IF_ERROR(ApplyConfig(it->second, plan));
  RETURN_IF_ERROR(CheckLayersPresent(idx, plan, "manifest.json"));
  return plan;
}

}  // namespace

absl::StatusOr<IngestedImage> IngestImageArchive(const std::string& path, BlobStore& blobs,
                                                 const IngestOptions& options) {
  ASSIGN_OR_RETURN(ArchiveIndex idx, IndexArchive(path));
  Plan plan;
  if (idx.json.count("oci-layout") && idx.json.count("index.json")) {
    ASSIGN_OR_RETURN(plan, PlanOci(idx, options));
  } else if (idx.json.count("manifest.json")) {
    ASSIGN_OR_RETURN(plan, PlanDocker(idx, options));
  } else {
    return Invalid(
        "archive is neither a docker-save archive (manifest.json) nor an OCI image layout "
        "(oci-layout + index.json)");
  }
  std::vector<image_internal::LayerSpec> specs;
  for (const auto& l : plan.layers) {
    specs.push_back(
        {l.path, l.media_type, l.expected_digest, l.expected_size, l.diff_id, l.compression});
  }
  ASSIGN_OR_RETURN(std::vector<ImageLayer> layers,
                   image_internal::StoreLayers(path, specs, blobs, options));

  IngestedImage img;
  img.format = plan.format;
  img.config_json = plan.config_json;
  img.config_digest = Sha256Digest(plan.config_json);
  ASSIGN_OR_RETURN(Json config, ParseJsonDoc(plan.config_json, "image config"));
  img.os = config.value("os", "");
  img.architecture = config.value("architecture", "");
  ASSIGN_OR_RETURN(img.config, ParseRuntimeConfig(config));
  img.layers = std::move(layers);
  for (const auto& l : img.layers) img.size_bytes += l.size;
  img.ref_names = std::move(plan.ref_names);
  if (plan.manifest_json.empty()) {
    Json m = {{"schemaVersion", 2},
              {"mediaType", kOciManifestType},
              {"config",
               {{"mediaType", kOciConfigType},
                {"digest", img.config_digest},
                {"size", plan.config_json.size()}}},
              {"layers", Json::array()}};
    for (const auto& l : img.layers) {
      m["layers"].push_back(
          {{"mediaType", l.media_type}, {"digest", l.digest}, {"size", l.compressed_size}});
    }
    plan.manifest_json = m.dump();
  }
  img.manifest_json = plan.manifest_json;
  img.manifest_digest = Sha256Digest(plan.manifest_json);
  return img;
}

namespace {
absl::StatusOr<std::vector<std::string>> StringList(const Json& c, const char* key) {
  std::vector<std::string> out;
  if (!c.contains(key) || c[key].is_null()) return out;
  if (c[key].is_string()) return std::vector<std::string>{c[key].get<std::string>()};
  if (!c[key].is_array()) return Invalid(fmt::format("image config {} is not a list", key));
  for (const Json& v : c[key]) {
    if (!v.is_string()) return Invalid(fmt::format("image config {} must hold strings", key));
    out.push_back(v.get<std::string>());
  }
  return out;
}
}  // namespace

absl::StatusOr<ImageRuntimeConfig> ParseRuntimeConfig(const Json& image_config) {
  ImageRuntimeConfig rc;
  if (!image_config.is_object()) return Invalid("image config is not a JSON object");
  Json c = image_config.contains("config") ? image_config["config"] : Json();
  if (c.is_null()) return rc;
  if (!c.is_object()) return Invalid("image config 'config' is not an object");
  ASSIGN_OR_RETURN(rc.entrypoint, StringList(c, "Entrypoint"));
  ASSIGN_OR_RETURN(rc.cmd, StringList(c, "Cmd"));
  ASSIGN_OR_RETURN(rc.env, StringList(c, "Env"));
  if (c.contains("WorkingDir") && c["WorkingDir"].is_string()) rc.working_dir = c["WorkingDir"];
  if (c.contains("User") && c["User"].is_string()) rc.user = c["User"];
  if (c.contains("ExposedPorts") && c["ExposedPorts"].is_object()) {
    for (auto& [k, v] : c["ExposedPorts"].items()) rc.exposed_ports.push_back(k);
  }
  if (c.contains("Labels") && c["Labels"].is_object()) {
    for (auto& [k, v] : c["Labels"].items()) {
      if (v.is_string()) rc.labels[k] = v.get<std::string>();
    }
  }
  return rc;
}

Json RuntimeConfigToJson(const ImageRuntimeConfig& c) {
  Json ports = Json::object();
  for (const auto& p : c.exposed_ports) ports[p] = Json::object();
  return {{"Entrypoint", c.entrypoint},  {"Cmd", c.cmd},   {"Env", c.env},
          {"WorkingDir", c.working_dir}, {"User", c.user}, {"ExposedPorts", ports},
          {"Labels", c.labels}};
}

}  // namespace mercato
