#include "image/scanner.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "base/status.h"
#include "fmt/format.h"
#include "image/tar_stream.h"

namespace mercato {
namespace {

using image_internal::EntryHardlink;
using image_internal::EntryPath;
using image_internal::LayerTarReader;
using image_internal::NormalizeMemberPath;

constexpr size_t kCarry = 256;  // bytes kept between chunks so matches may straddle them

bool IsUpperAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsBase64(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

class Collector {
 public:
  Collector(ScanReport& report, const ScanOptions& options) : r_(report), o_(options) {}
  void Add(std::string rule, std::string severity, std::string path, int layer,
           std::string message) {
    if (r_.findings.size() >= o_.max_findings) {
      r_.truncated = true;
      return;
    }
    r_.findings.push_back(
        {std::move(rule), std::move(severity), std::move(path), layer, std::move(message)});
  }

 private:
  ScanReport& r_;
  const ScanOptions& o_;
};

// Searches one file's content for secrets, chunk by chunk. Reports each rule once per file.
class SecretSearch {
 public:
  SecretSearch(Collector& out, std::string path, int layer)
      : out_(out), path_(std::move(path)), layer_(layer) {}

  void Feed(std::string_view chunk) {
    window_.append(chunk);
    if (!pem_) FindPem();
    if (!key_id_) FindKeyId();
    if (!secret_) FindSecret();
    if (window_.size() > kCarry) window_.erase(0, window_.size() - kCarry);
  }

 private:
  void FindPem() {
    for (size_t at = window_.find("-----BEGIN "); at != std::string::npos;
         at = window_.find("-----BEGIN ", at + 1)) {
      size_t end = window_.find("PRIVATE KEY-----", at);
      if (end == std::string::npos || end - at > 48) continue;
      std::string_view label(window_.data() + at + 11, end - at - 11);
      if (label.find('\n') != std::string_view::npos) continue;
      // Require a key body to follow, so source code that merely names the marker passes.
      size_t body = end + 16;
      while (body < window_.size() &&
             (window_[body] == '\r' || window_[body] == '\n' || window_[body] == '\\' ||
              (window_[body] == 'n' && window_[body - 1] == '\\'))) {
        ++body;
      }
      size_t run = 0;
      while (body + run < window_.size() && IsBase64(window_[body + run])) ++run;
      bool body_cut = body + run == window_.size();
      if (run >= 32 || window_.compare(body, 10, "Proc-Type:") == 0 || body_cut) {
        pem_ = true;
        out_.Add("private-key", "HIGH", path_, layer_,
                 fmt::format("embedded private key ({}PRIVATE KEY)", std::string(label)));
        return;
      }
    }
  }

  void FindKeyId() {
    for (const char* prefix : {"AKIA", "ASIA"}) {
      for (size_t at = window_.find(prefix); at != std::string::npos;
           at = window_.find(prefix, at + 1)) {
        if (at + 20 > window_.size()) break;
        if (at > 0 && IsUpperAlnum(window_[at - 1])) continue;
        if (!std::all_of(window_.begin() + at + 4, window_.begin() + at + 20, IsUpperAlnum)) {
          continue;
        }
        if (at + 20 < window_.size() && IsUpperAlnum(window_[at + 20])) continue;
        std::string id = window_.substr(at, 20);
        if (id.ends_with("EXAMPLE")) continue;  // AWS's documentation key
        key_id_ = true;
        out_.Add("aws-access-key-id", "HIGH", path_, layer_,
                 fmt::format("AWS access key id {}...", id.substr(0, 8)));
        return;
      }
    }
  }

  void FindSecret() {
    for (const char* name : {"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"}) {
      for (size_t at = window_.find(name); at != std::string::npos;
           at = window_.find(name, at + 1)) {
        size_t v = at + std::strlen(name);
        while (v < window_.size() && std::strchr(" \t\"':=", window_[v])) ++v;
        size_t run = 0;
        while (v + run < window_.size() && IsBase64(window_[v + run])) ++run;
        if (run != 40) continue;
        if (window_.compare(v, run, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == 0) continue;
        secret_ = true;
        out_.Add("aws-secret-access-key", "HIGH", path_, layer_,
                 "AWS secret access key assigned in file");
        return;
      }
    }
  }

  Collector& out_;
  std::string path_;
  int layer_;
  std::string window_;
  bool pem_ = false, key_id_ = false, secret_ = false;
};

// True if a relative symlink at `link_path` with `target` climbs above the root.
bool SymlinkEscapes(const std::string& link_path, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;  // absolute: resolves in root
  int depth = static_cast<int>(std::count(link_path.begin(), link_path.end(), '/'));
  size_t i = 0;
  while (i <= target.size()) {
    size_t j = target.find('/', i);
    if (j == std::string_view::npos) j = target.size();
    std::string_view comp = target.substr(i, j - i);
    if (comp == "..") {
      if (--depth < 0) return true;
    } else if (!comp.empty() && comp != ".") {
      ++depth;
    }
    i = j + 1;
  }
  return false;
}

absl::Status ScanLayer(BlobStore& blobs, const std::string& blob_id, int layer,
                       const ScanOptions& options, Collector& out, ScanReport& report) {
  ASSIGN_OR_RETURN(uint64_t layer_size, blobs.Size(blob_id));
  if (layer_size > options.oversize_layer_bytes) {
    out.Add("oversize-layer", "MEDIUM", "", layer,
            fmt::format("layer is {} bytes (limit {})", layer_size, options.oversize_layer_bytes));
  }
  ASSIGN_OR_RETURN(auto reader, image_internal::LayerTarReader::Open(blobs, blob_id));
  std::vector<char> buf(256 * 1024);
  while (true) {
    ASSIGN_OR_RETURN(archive_entry * e, reader->Next());
    if (!e) return absl::OkStatus();
    ++report.files_scanned;
    std::string raw = EntryPath(e);
    auto norm = NormalizeMemberPath(raw);
    if (!norm.ok()) {
      out.Add("path-traversal", "HIGH", raw, layer, std::string(norm.status().message()));
      continue;
    }
    const std::string& path = *norm;
    std::string hard = EntryHardlink(e);
    if (!hard.empty()) {
      if (!NormalizeMemberPath(hard).ok()) {
        out.Add("path-traversal", "HIGH", path, layer,
                fmt::format("hard link to unsafe path '{}'", hard));
      }
      continue;
    }
    mode_t mode = archive_entry_mode(e);
    switch (archive_entry_filetype(e)) {
      case AE_IFCHR:
      case AE_IFBLK:
        out.Add("device-node", "MEDIUM", path, layer, "device node");
        break;
      case AE_IFDIR:
        if ((mode & S_IWOTH) && !(mode & S_ISVTX)) {
          out.Add("world-writable-dir", "LOW", path, layer,
                  "world-writable directory without the sticky bit");
        }
        break;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (target && SymlinkEscapes(path, target)) {
          out.Add("symlink-escape", "MEDIUM", path, layer,
                  fmt::format("symlink to '{}' points outside the image root", target));
        }
        break;
      }
      case AE_IFREG: {
        if (mode & S_ISUID) out.Add("setuid", "MEDIUM", path, layer, "setuid file");
        if (mode & S_ISGID) out.Add("setgid", "MEDIUM", path, layer, "setgid file");
        if (mode & S_IWOTH)
          out.Add("world-writable-file", "LOW", path, layer, "world-writable file");
        if (static_cast<uint64_t>(archive_entry_size(e)) > options.max_content_scan_bytes) break;
        SecretSearch search(out, path, layer);
        while (true) {
          ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
          if (n == 0) break;
          search.Feed(std::string_view(buf.data(), n));
        }
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

int ScanReport::Count(std::string_view severity) const {
  return static_cast<int>(
      std::count_if(findings.begin(), findings.end(),
                    [&](const ScanFinding& f) { return f.severity == severity; }));
}

Json ScanReport::ToJson() const {
  Json j = {
      {"status", status()},
      {"summary", {{"HIGH", Count("HIGH")}, {"MEDIUM", Count("MEDIUM")}, {"LOW", Count("LOW")}}},
      {"layers_scanned", layers_scanned},
      {"files_scanned", files_scanned},
      {"truncated", truncated},
      {"findings", Json::array()}};
  for (const auto& f : findings) {
    j["findings"].push_back({{"rule", f.rule},
                             {"severity", f.severity},
                             {"path", f.path},
                             {"layer", f.layer},
                             {"message", f.message}});
  }
  return j;
}

absl::StatusOr<ScanReport> ScanImageLayers(BlobStore& blobs,
                                           const std::vector<std::string>& layer_blob_ids,
                                           const ScanOptions& options) {
  ScanReport report;
  Collector out(report, options);
  for (size_t i = 0; i < layer_blob_ids.size(); ++i) {
    RETURN_IF_ERROR(ScanLayer(blobs, layer_blob_ids[i], static_cast<int>(i), options, out, report));
    ++report.layers_scanned;
  }
  return report;
}

}  // namespace mercato
