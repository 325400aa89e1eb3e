// Image scanner: inspects every layer of an image, as stored in the BlobStore, for what
// a marketplace must not ship or must flag to the operator:
//   path-traversal (HIGH)         member or hard-link target absolute or with ".."
//   private-key (HIGH)            PEM "-----BEGIN ... PRIVATE KEY-----" with a key body
//   aws-access-key-id (HIGH)      AKIA/ASIA + 16 upper-case alphanumerics (not AWS's EXAMPLE)
//   aws-secret-access-key (HIGH)  aws_secret_access_key = <40 chars>
//   setuid / setgid (MEDIUM)      regular files with S_ISUID / S_ISGID (unpack strips them)
//   device-node (MEDIUM)          character or block devices (unpack skips them)
//   symlink-escape (MEDIUM)       relative symlink whose ".." climbs above the root
//   oversize-layer (MEDIUM)       a layer larger than ScanOptions::oversize_layer_bytes
//   world-writable-dir (LOW)      o+w directory without the sticky bit
//   world-writable-file (LOW)     o+w regular file
// Lower layers count too: a file deleted by a later layer still ships in the image.
// HIGH findings block listing (ScanReport::blocking()).
//
// Scanning streams each layer once; memory is bounded by one buffer. Thread-safe
// functions (given a thread-safe BlobStore).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "blob/blob_store.h"

namespace mercato {

struct ScanFinding {
  std::string rule{};
  std::string severity{};  // "HIGH", "MEDIUM" or "LOW"
  std::string path;        // inside the image ("" for layer-wide findings)
  int layer = 0;           // 0 = base layer
  std::string message{};
};

struct ScanReport {
  std::vector<ScanFinding> findings{};
  uint64_t layers_scanned = 0;
  uint64_t files_scanned = 0;
  bool truncated = false;  // more findings than ScanOptions::max_findings
  int Count(std::string_view severity) const;
  bool blocking() const { return Count("HIGH") > 0; }
  // "PASSED" or "BLOCKED".
  std::string status() const { return blocking() ? "BLOCKED" : "PASSED"; }
  Json ToJson() const;
};

struct ScanOptions {
  uint64_t oversize_layer_bytes = 5ull << 30;
  // Contents of larger files are not searched for secrets (their metadata still is).
  uint64_t max_content_scan_bytes = 64ull << 20;
  size_t max_findings = 1000;
};

absl::StatusOr<ScanReport> ScanImageLayers(BlobStore& blobs,
                                           const std::vector<std::string>& layer_blob_ids,
                                           const ScanOptions& options = {});

}  // namespace mercato
