// Native API routes for container images and image runs (issue 3's user-facing surface).
//
// Images (a reference is REPO, REPO:TAG, REPO@sha256:..., or a full image URI; repositories
// may contain '/', so references travel in the `ref` query parameter, URL-encoded):
//   POST   /api/v1/images?name=REPO:TAG         body: the archive (docker save or OCI
//                                               layout tar, optionally compressed), streamed
//                                               → 201 {image_uri, digest, size_bytes, ...}
//   GET    /api/v1/images[?repository=REPO]      → {images: [...]}
//   GET    /api/v1/images?ref=REF               → the image (describe)
//   GET    /api/v1/images/scan-report?ref=REF   → {image_uri, digest, scan_status, scan_report}
//   POST   /api/v1/images/tags                  {"source": REF, "target": "REPO:TAG"}
//   DELETE /api/v1/images?ref=REF
// Image runs (ImageRunner; only the creating account sees a run):
//   POST /api/v1/image-runs                     {image, instance_type, args, hyperparameters,
//                                                environment} → 201, state Pending
//   GET  /api/v1/image-runs, GET /api/v1/image-runs/{id}
//   PUT  /api/v1/image-runs/{id}/model-data     body: model.tar.gz (→ /opt/ml/model)
//   PUT  /api/v1/image-runs/{id}/input/{channel}  body: a tar of the channel's files
//   POST /api/v1/image-runs/{id}/start, POST /api/v1/image-runs/{id}/stop
//   GET  /api/v1/image-runs/{id}/logs?since_line=N → {lines, next_line, done, state}
//   GET  /api/v1/image-runs/{id}/model          → model.tar.gz of a completed train run
//   ANY  /api/v1/image-runs/{id}/http/{path...} → forwarded to the instance's port 8080
// Uploads stream to a temporary file first (never held in memory); a body above the
// limit is refused with 413 EntityTooLarge before or while it is read.
// The functions only register routes; the routes borrow the registry and runner. Without
// a runner (no usable container runtime on this host) the image-run routes answer 503
// ServiceUnavailable with `runner_unavailable_reason`.
#pragma once

#include <cstdint>
#include <string>

#include "api/v1/v1_api.h"
#include "image/image_registry.h"
#include "jobs/image_runner.h"

namespace mercato::api::v1 {

struct ImageRouteOptions {
  std::string upload_dir;  // temporary files for pushed archives
  uint64_t max_image_upload_bytes = 10ull << 30;
  uint64_t max_run_upload_bytes = 10ull << 30;  // model data or one channel
  uint64_t max_forward_body_bytes = 64ull << 20;
  absl::Duration forward_timeout = absl::Seconds(120);
};

void AddImageRoutes(V1Api& api, ImageRegistry& registry, jobs::ImageRunner* runner,
                    const ImageRouteOptions& options,
                    const std::string& runner_unavailable_reason = "");

}  // namespace mercato::api::v1
