#include "server/hosting_wiring.h"

#include <cstdlib>
#include <filesystem>

#include "api/sagemaker/runtime_api.h"
#include "api/sagemaker/training_actions.h"
#include "api/sagemaker/transform_actions.h"
#include "api/v1/hosting_routes.h"
#include "base/logging.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/endpoint_controller.h"
#include "hosting/endpoint_logs.h"
#include "hosting/endpoint_metrics.h"
#include "hosting/hosting_service.h"
#include "hosting/invocation_router.h"
#include "hosting/model_data.h"
#include "hosting/registry_image_resolver.h"
#include "jobs/training_job_runner.h"
#include "jobs/transform_job_objects.h"
#include "jobs/transform_job_runner.h"
#include "sandbox/bwrap_runtime.h"

namespace mercato::server {
namespace {

// Stands in for the sandbox when it cannot run on this host: every start fails with why.
class UnavailableRuntime final : public sandbox::ContainerRuntime {
 public:
  explicit UnavailableRuntime(std::string why) : why_(std::move(why)) {}
  absl::StatusOr<sandbox::InstanceId> Start(const sandbox::InstanceSpec&) override {
    return absl::UnavailableError(why_);
  }
  absl::Status Stop(const sandbox::InstanceId&, absl::Duration) override {
    return absl::OkStatus();
  }
  absl::StatusOr<sandbox::InstanceStatus> Wait(const sandbox::InstanceId& id,
                                               absl::Duration) override {
    return absl::NotFoundError(id);
  }
  absl::StatusOr<sandbox::InstanceStatus> Status(const sandbox::InstanceId& id) override {
    return absl::NotFoundError(id);
  }
  absl::StatusOr<int> Dial(const sandbox::InstanceId& id, int, absl::Duration) override {
    return absl::NotFoundError(id);
  }
  absl::StatusOr<sandbox::LogReaderPtr> Logs(const sandbox::InstanceId& id) override {
    return absl::NotFoundError(id);
  }
  absl::Status Forget(const sandbox::InstanceId&) override { return absl::OkStatus(); }

 private:
  std::string why_;
};

}  // namespace

// Declaration order is destruction order reversed: the controller and router go before the
// runtime, rootfs cache and registry they borrow.
struct HostingWiring::Parts {
  std::unique_ptr<ImageRegistry> own_registry;
  std::unique_ptr<RootfsCache> own_rootfs;
  std::unique_ptr<sandbox::ContainerRuntime> own_runtime;
  std::unique_ptr<hosting::RegistryImageResolver> resolver;
  std::unique_ptr<hosting::ModelDataFetcher> fetcher;
  std::unique_ptr<hosting::HostingService> service;
  std::unique_ptr<hosting::EndpointController> controller;
  std::unique_ptr<hosting::EndpointMetrics> endpoint_metrics;
  std::unique_ptr<hosting::EndpointLogs> endpoint_logs;
  std::unique_ptr<hosting::InvocationRouter> router;
  std::unique_ptr<api::sagemaker::SageMakerApi> sagemaker;
  std::unique_ptr<api::sagemaker::RuntimeApi> runtime_api;
  // Batch transform jobs (declared last: their threads borrow everything above).
  std::unique_ptr<storage::ObjectStore> transform_object_store;
  std::unique_ptr<jobs::S3TransformObjects> transform_objects;
  std::unique_ptr<jobs::TransformJobRunner> transform_runner;
  // Training jobs (likewise last).
  std::unique_ptr<storage::ObjectStore> training_object_store;
  std::unique_ptr<jobs::TrainingJobRunner> training_runner;
};

HostingWiring::HostingWiring(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
HostingWiring::~HostingWiring() { Stop(); }

absl::StatusOr<std::unique_ptr<HostingWiring>> HostingWiring::Build(const HostingDeps& deps,
                                                                    Dispatcher& dispatcher) {
  auto p = std::make_unique<Parts>();
  const std::string& dir = deps.config.data_dir;
  ImageRegistry* registry = deps.registry;
  if (registry == nullptr) {
    ImageRegistryOptions ro;
    ro.registry_host = deps.config.listen;
    ASSIGN_OR_RETURN(p->own_registry,
                     ImageRegistry::Create(deps.store, deps.blobs, deps.clock, ro));
    registry = p->own_registry.get();
  }
  RootfsCache* rootfs = deps.rootfs;
  if (rootfs == nullptr) {
    ASSIGN_OR_RETURN(p->own_rootfs,
                     RootfsCache::Create(deps.blobs, {.cache_dir = dir + "/rootfs"}));
    rootfs = p->own_rootfs.get();
  }
  sandbox::ContainerRuntime* runtime = deps.runtime;
  if (runtime == nullptr) {
    sandbox::BwrapRuntime::Options so;
    so.state_dir = dir + "/sandbox";
    so.clock = &deps.clock;
    auto bwrap = sandbox::BwrapRuntime::Create(so);
    if (bwrap.ok()) {
      p->own_runtime = std::move(*bwrap);
    } else {
      spdlog::warn("hosting: the sandbox is unavailable, endpoints will fail: {}",
                   bwrap.status().ToString());
      p->own_runtime = std::make_unique<UnavailableRuntime>(fmt::format(
          "the sandbox is unavailable on this host: {}", std::string(bwrap.status().message())));
    }
    runtime = p->own_runtime.get();
  }
  p->resolver = std::make_unique<hosting::RegistryImageResolver>(*registry, *rootfs);
  p->fetcher = std::make_unique<hosting::ModelDataFetcher>(deps.store, deps.blobs);
  hosting::HostingOptions ho;
  ho.region = deps.config.region;
  hosting::RegistryImageResolver* resolver = p->resolver.get();
  ho.check_image = [resolver](std::string_view account, std::string_view image) {
    return resolver->Check(account, image);
  };
  p->service = std::make_unique<hosting::HostingService>(deps.store, deps.clock, ho);
  p->controller = std::make_unique<hosting::EndpointController>(
      deps.store, *runtime, *p->resolver, *p->fetcher, deps.clock,
      hosting::ControllerOptions{.instances_dir = dir + "/endpoints"});
  p->service->set_runtime_view(p->controller.get());
  hosting::EndpointController* controller = p->controller.get();
  p->service->set_changed_callback([controller] { controller->Notify(); });
  p->endpoint_metrics = std::make_unique<hosting::EndpointMetrics>(deps.metrics, deps.clock);
  p->endpoint_logs =
      std::make_unique<hosting::EndpointLogs>(deps.store, deps.clock, dir + "/endpoints");
  hosting::RouterOptions router_options;
  // Hidden knob for tests (SageMaker's limit, 60 s, otherwise).
  if (const char* t = std::getenv("MERCATO_INVOCATION_TIMEOUT_SECONDS"); t && std::atoi(t) > 0) {
    router_options.invocation_timeout = absl::Seconds(std::atoi(t));
  }
  p->router = std::make_unique<hosting::InvocationRouter>(*p->controller, *runtime, deps.store,
                                                          *p->endpoint_metrics, router_options);
  if (deps.v1 != nullptr) {
    api::v1::AddHostingRoutes(*deps.v1, {.store = deps.store,
                                         .clock = deps.clock,
                                         .controller = *p->controller,
                                         .metrics = *p->endpoint_metrics,
                                         .logs = *p->endpoint_logs});
  }
  p->sagemaker = std::make_unique<api::sagemaker::SageMakerApi>(deps.authenticator);
  api::sagemaker::AddHostingActions(*p->sagemaker, *p->service);
  p->transform_object_store =
      std::make_unique<storage::ObjectStore>(deps.store, deps.blobs, deps.clock);
  p->transform_objects = std::make_unique<jobs::S3TransformObjects>(*p->transform_object_store);
  p->transform_runner = std::make_unique<jobs::TransformJobRunner>(
      deps.store, *p->transform_objects, *p->service, *p->resolver, *p->fetcher, *runtime,
      deps.clock,
      jobs::TransformRunnerOptions{.jobs_dir = dir + "/transform-jobs",
                                   .region = deps.config.region});
  api::sagemaker::AddTransformActions(*p->sagemaker, *p->transform_runner);
  jobs::TrainingRunnerOptions training_options;
  training_options.jobs_dir = dir + "/training-jobs";
  training_options.region = deps.config.region;
  training_options.check_image = [resolver](std::string_view account, std::string_view image) {
    return resolver->Check(account, image);
  };
  // Hidden knob for tests: SIGTERM → SIGKILL on StopTrainingJob (SageMaker's 120 s otherwise).
  if (const char* g = std::getenv("MERCATO_TRAINING_STOP_GRACE_SECONDS"); g && *g) {
    training_options.stop_grace = absl::Seconds(std::atoi(g));
  }
  p->training_object_store =
      std::make_unique<storage::ObjectStore>(deps.store, deps.blobs, deps.clock);
  p->training_runner =
      std::make_unique<jobs::TrainingJobRunner>(deps.store, *p->training_object_store, *p->resolver,
                                                *runtime, deps.clock, std::move(training_options));
  api::sagemaker::AddTrainingActions(*p->sagemaker, *p->training_runner);
  if (deps.v1 != nullptr) api::sagemaker::AddTrainingLogRoute(*deps.v1, *p->training_runner);
  p->runtime_api = std::make_unique<api::sagemaker::RuntimeApi>(deps.authenticator, *p->router,
                                                                deps.config.region);
  api::sagemaker::SageMakerApi* sm = p->sagemaker.get();
  api::sagemaker::RuntimeApi* rt = p->runtime_api.get();
  dispatcher.Set(ApiKind::kSageMaker,
                 [sm](http::Request& r, http::BodyReader& b) { return sm->Handle(r, b); });
  dispatcher.Set(ApiKind::kRuntime,
                 [rt](http::Request& r, http::BodyReader& b) { return rt->Handle(r, b); });
  return std::unique_ptr<HostingWiring>(new HostingWiring(std::move(p)));
}

// Ending what a previous process left running happens here, not in Build(): App builds the
// marketplace (whose metering first closes those instances at their last metered instant)
// between the two, so downtime is never billed.
void HostingWiring::Start() {
  if (absl::Status s = parts_->transform_runner->Recover(); !s.ok()) {
    spdlog::warn("transform: cannot end interrupted jobs: {}", s.ToString());
  }
  if (absl::Status s = parts_->training_runner->Recover(); !s.ok()) {
    spdlog::warn("training: cannot end interrupted jobs: {}", s.ToString());
  }
  parts_->controller->Start();
}
void HostingWiring::Stop() {
  if (parts_ && parts_->transform_runner) parts_->transform_runner->Shutdown();
  if (parts_ && parts_->training_runner) parts_->training_runner->Shutdown();
  if (parts_ && parts_->controller) parts_->controller->Stop();
}
api::sagemaker::SageMakerApi& HostingWiring::sagemaker_api() { return *parts_->sagemaker; }
hosting::HostingService& HostingWiring::hosting_service() { return *parts_->service; }
hosting::InvocationRouter& HostingWiring::router() { return *parts_->router; }
jobs::TrainingJobRunner* HostingWiring::training_runner() { return parts_->training_runner.get(); }
jobs::TransformJobRunner* HostingWiring::transform_runner() {
  return parts_->transform_runner.get();
}

}  // namespace mercato::server
