// Builds the SageMaker hosting vertical for mercatod — HostingService, EndpointController,
// InvocationRouter and the SageMaker / SageMaker Runtime facades — and installs them on the
// Dispatcher (ApiKind::kSageMaker, ApiKind::kRuntime).
//
// It reuses the image registry, rootfs cache and container runtime that App passes in; any
// that is null is created here (under DATA_DIR/rootfs and DATA_DIR/sandbox). If the sandbox
// cannot be created (no bwrap, no cgroups), the API still works and endpoints fail with a
// FailureReason that says why.
// Lifetime: Start() after the server starts, Stop() before anything it borrows is destroyed.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "api/sagemaker/sagemaker_api.h"
#include "api/v1/v1_api.h"
#include "auth/authenticator.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "blob/blob_store.h"
#include "image/image_registry.h"
#include "image/rootfs_cache.h"
#include "sandbox/container_runtime.h"
#include "server/config.h"
#include "server/dispatcher.h"
#include "store/metadata_store.h"

namespace mercato::hosting {
class HostingService;
class InvocationRouter;
}  // namespace mercato::hosting
namespace mercato::jobs {
class TrainingJobRunner;
class TransformJobRunner;
}  // namespace mercato::jobs

namespace mercato::server {

struct HostingDeps {
  const Config& config;
  MetadataStore& store;
  BlobStore& blobs;
  const Clock& clock;
  auth::Authenticator& authenticator;
  MetricsRegistry& metrics;
  ImageRegistry* registry = nullptr;             // created when null
  RootfsCache* rootfs = nullptr;                 // created when null
  sandbox::ContainerRuntime* runtime = nullptr;  // a BwrapRuntime is created when null
  api::v1::V1Api* v1 = nullptr;  // endpoint logs/metrics/instances routes go here when set
};

class HostingWiring {
 public:
  static absl::StatusOr<std::unique_ptr<HostingWiring>> Build(const HostingDeps& deps,
                                                              Dispatcher& dispatcher);
  ~HostingWiring();
  void Start();
  void Stop();
  // So that jobs (training, transform) can register their actions.
  api::sagemaker::SageMakerApi& sagemaker_api();
  hosting::HostingService& hosting_service();
  hosting::InvocationRouter& router();
  jobs::TrainingJobRunner* training_runner();    // null when jobs are unavailable
  jobs::TransformJobRunner* transform_runner();  // likewise

 private:
  struct Parts;
  explicit HostingWiring(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace mercato::server
