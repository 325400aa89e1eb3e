// ImageRegistry: the per-account catalog of pushed container images.
//
// Push ingests an archive (image_archive.h), scans its layers (scanner.h) and records the
// image under ACCOUNT/REPOSITORY with a tag; its layers live in the BlobStore, its
// records in the MetadataStore (tables `images`, keyed by account + repository + manifest
// digest, and `image_tags`). An image is addressed as HOST:PORT/ACCOUNT/REPO:TAG (the
// image_uri; HOST:PORT is ImageRegistryOptions::registry_host).
//
// References accepted everywhere: "REPO", "REPO:TAG", "REPO@sha256:<hex>", or a full image
// URI (its host part is not compared; its account must be the caller's). A bare REPO means
// REPO:latest. Repository names follow Docker's rule (lower-case components separated by
// "/"); tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. Another account's images are
// NotFound, exactly as missing ones.
//
// Deleting a tag removes the image record once no tag in its repository points at it;
// deleting by digest removes the record and all its tags. Layer blobs are never deleted
// here (other images and escrowed product versions share them): ReferencedBlobs() lets a
// collector find the unreferenced ones.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "blob/blob_store.h"
#include "image/image_archive.h"
#include "image/scanner.h"
#include "store/metadata_store.h"

namespace mercato {

struct ImageRegistryOptions {
  std::string registry_host = "localhost:8600";
  // Largest accepted archive, and largest uncompressed image.
  uint64_t max_image_bytes = 10ull << 30;
  IngestOptions ingest{};
  ScanOptions scan{};
};

struct ImageReference {
  std::string repository{};
  std::string tag{};     // set unless the reference named a digest
  std::string digest{};  // "sha256:<hex>" when given
};

// Parses a reference as described above. `account_id`, when non-empty, must match the
// account in a full image URI (else NotFound).
absl::StatusOr<ImageReference> ParseImageReference(std::string_view reference,
                                                   std::string_view account_id = "");

struct ImageRecord {
  std::string account_id{};
  std::string repository{};
  std::string digest{};             // manifest digest
  std::vector<std::string> tags{};  // sorted
  std::string image_uri{};          // by the first tag, else by digest
  std::string format{};             // docker-archive | oci-archive
  uint64_t size_bytes = 0;
  absl::Time created_at{};
  std::string manifest_json{};
  std::string config_json{};
  ImageRuntimeConfig config{};
  std::vector<ImageLayer> layers{};
  std::string scan_status{};  // PASSED | BLOCKED | ERROR
  Json scan_report{};
  Json ToJson() const;  // the summary the API returns (no manifest/config text)
};

struct PushResult {
  std::string image_uri{};
  std::string digest{};
  uint64_t size_bytes = 0;
  std::string scan_status{};
};

class ImageRegistry {
 public:
  static absl::StatusOr<std::unique_ptr<ImageRegistry>> Create(MetadataStore& store,
                                                               BlobStore& blobs, const Clock& clock,
                                                               ImageRegistryOptions options);

  // Ingests and scans the archive at `archive_path` and tags it `repo_tag` ("REPO:TAG").
  absl::StatusOr<PushResult> Push(std::string_view account_id, const std::string& archive_path,
                                  std::string_view repo_tag);
  // Images of an account (of one repository when `repository` is non-empty).
  absl::StatusOr<std::vector<ImageRecord>> List(std::string_view account_id,
                                                std::string_view repository = "");
  absl::StatusOr<ImageRecord> Describe(std::string_view account_id, std::string_view reference);
  absl::StatusOr<ImageRecord> Resolve(std::string_view account_id, std::string_view reference) {
    return Describe(account_id, reference);
  }
  // Points `target` ("REPO:TAG") at the image `source` resolves to.
  absl::Status Tag(std::string_view account_id, std::string_view source, std::string_view target);
  // Records the image `source` of `src_account` in `dst_account` as `target` ("REPO:TAG"),
  // sharing its layer blobs (nothing is copied but records). The copy lives on when the
  // source is deleted (escrow of listed product versions). Returns the new record.
  absl::StatusOr<ImageRecord> CopyTo(std::string_view src_account, std::string_view source,
                                     std::string_view dst_account, std::string_view target);
  absl::Status Delete(std::string_view account_id, std::string_view reference);
  // Every layer blob some image record references.
  absl::StatusOr<std::vector<std::string>> ReferencedBlobs();

  std::string ImageUri(std::string_view account_id, std::string_view repository,
                       std::string_view tag) const;

 private:
  ImageRegistry(MetadataStore& store, BlobStore& blobs, const Clock& clock,
                ImageRegistryOptions options)
      : store_(store), blobs_(blobs), clock_(clock), options_(std::move(options)) {}
  absl::StatusOr<ImageRecord> Load(std::string_view account_id, std::string_view repository,
                                   std::string_view digest);

  MetadataStore& store_;
  BlobStore& blobs_;
  const Clock& clock_;
  const ImageRegistryOptions options_;
};

}  // namespace mercato
