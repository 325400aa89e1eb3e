// Builds the packages part of the marketplace (marketplace.h): the PackageService behind
// SageMaker's algorithm and model package actions, the PackageValidator running validation
// jobs through the hosting service and the training/transform runners, and PackageEscrow.
// Provides the hooks escrow and lookup_package; uses can_view_package at run time.
#include "api/sagemaker/catalog_actions.h"
#include "catalog/package_escrow.h"
#include "catalog/package_service.h"
#include "catalog/validation_runner.h"
#include "fmt/format.h"
#include "hosting/hosting_service.h"
#include "jobs/training_job_runner.h"
#include "jobs/transform_job_runner.h"
#include "server/marketplace.h"

namespace mercato::server {
namespace {

absl::Status NotAvailable(std::string_view what) {
  return absl::UnavailableError(
      fmt::format("{} are not available on this server (the sandbox is not running)", what));
}

// Validation jobs run as the seller's own SageMaker resources. Create* first look the name
// up, so a validator resuming after a restart does not fail on what it already made.
class JobsValidationBackend final : public catalog::ValidationBackend {
 public:
  explicit JobsValidationBackend(const MarketplaceDeps& deps) : deps_(deps) {}

  absl::Status CreateTrainingJob(std::string_view account, const Json& req) override {
    if (deps_.training == nullptr) return NotAvailable("training jobs");
    if (deps_.training->Describe(account, {{"TrainingJobName", req["TrainingJobName"]}}).ok()) {
      return absl::OkStatus();
    }
    return deps_.training->Create(account, req).status();
  }
  absl::StatusOr<Json> DescribeTrainingJob(std::string_view account,
                                           std::string_view name) override {
    if (deps_.training == nullptr) return NotAvailable("training jobs");
    return deps_.training->Describe(account, {{"TrainingJobName", std::string(name)}});
  }
  absl::Status CreateModel(std::string_view account, const Json& req) override {
    if (deps_.hosting.DescribeModel(account, {{"ModelName", req["ModelName"]}}).ok()) {
      return absl::OkStatus();
    }
    return deps_.hosting.CreateModel(account, req).status();
  }
  absl::Status DeleteModel(std::string_view account, std::string_view name) override {
    Json in = {{"ModelName", std::string(name)}};
    absl::Status s = deps_.hosting.DeleteModel(account, in).status();
    if (!s.ok() && !deps_.hosting.DescribeModel(account, in).ok()) return absl::OkStatus();
    return s;
  }
  absl::Status CreateTransformJob(std::string_view account, const Json& req) override {
    if (deps_.transform == nullptr) return NotAvailable("transform jobs");
    if (deps_.transform->Describe(account, {{"TransformJobName", req["TransformJobName"]}}).ok()) {
      return absl::OkStatus();
    }
    return deps_.transform->Create(account, req).status();
  }
  absl::StatusOr<Json> DescribeTransformJob(std::string_view account,
                                            std::string_view name) override {
    if (deps_.transform == nullptr) return NotAvailable("transform jobs");
    return deps_.transform->Describe(account, {{"TransformJobName", std::string(name)}});
  }

 private:
  const MarketplaceDeps& deps_;
};

class PackagesPart final : public MarketplacePart {
 public:
  PackagesPart(MarketplaceContext& ctx)
      : backend(ctx.deps),
        packages(ctx.deps.store, ctx.deps.images, ctx.deps.clock, Options(ctx)),
        validator(packages, backend),
        escrow(packages, ctx.deps.objects,
               {.account = ctx.deps.escrow_account, .region = ctx.deps.region}) {}
  ~PackagesPart() override { Stop(); }
  void Start() override { validator.Start(); }
  void Stop() override { validator.Stop(); }

  JobsValidationBackend backend;
  catalog::PackageService packages;
  catalog::PackageValidator validator;
  catalog::PackageEscrow escrow;

 private:
  catalog::PackageServiceOptions Options(MarketplaceContext& ctx) {
    catalog::PackageServiceOptions o;
    o.region = ctx.deps.region;
    // Read at call time: the subscriptions part may be built after this one.
    MarketplaceHooks* hooks = &ctx.hooks;
    o.can_view = [hooks](std::string_view caller, std::string_view arn) -> absl::Status {
      if (!hooks->can_view_package) {
        return absl::UnavailableError("the subscriptions part is not available");
      }
      return hooks->can_view_package(caller, arn);
    };
    o.changed = [this] { validator.Wake(); };
    return o;
  }
};

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildPackagesPart(MarketplaceContext& ctx) {
  auto part = std::make_unique<PackagesPart>(ctx);
  PackagesPart* p = part.get();
  ctx.hooks.escrow = [p](std::string_view seller, std::string_view source_arn,
                         std::string_view escrow_name) {
    return p->escrow.Escrow(seller, source_arn, escrow_name);
  };
  ctx.hooks.lookup_package = [p](std::string_view name_or_arn, std::string_view caller) {
    return p->packages.Lookup(name_or_arn, caller);
  };
  api::sagemaker::AddCatalogActions(ctx.deps.sagemaker, p->packages);
  return part;
}

}  // namespace mercato::server
