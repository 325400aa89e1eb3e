// HostingService: SageMaker's hosting records — models, endpoint configs and endpoints — for
// each account, stored in the MetadataStore (tables models, endpoint_configs, endpoints).
//
// Requests and responses are SageMaker's own JSON shapes (CreateModel's input, DescribeModel's
// output, ...), so the API facade only deals with the protocol. Validation failures and
// missing or duplicate resources are statuses carrying SageMaker's error codes
// (ValidationException, ResourceInUse, ResourceLimitExceeded) via base/errors.h; times in
// responses are epoch seconds (JSON numbers).
//
// The service only writes desired state: CreateEndpoint stores an endpoint in status
// Creating with a deployment spec (the endpoint config and its models, snapshotted so that
// later deletes of either do not affect the endpoint); UpdateEndpoint stores a pending spec
// in status Updating; DeleteEndpoint marks it Deleting. The EndpointController (see
// endpoint_controller.h) reconciles running instances with that state and is woken through
// the `changed` callback. Describe reads live figures (instance counts, resolved images)
// from an optional EndpointRuntimeView.
//
// Thread-safe; borrows the store and clock.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/json.h"
#include "sandbox/instance_types.h"
#include "store/metadata_store.h"

namespace mercato::hosting {

// Endpoint statuses (SageMaker's EndpointStatus enum values used here).
inline constexpr char kCreating[] = "Creating";
inline constexpr char kInService[] = "InService";
inline constexpr char kUpdating[] = "Updating";
inline constexpr char kDeleting[] = "Deleting";
inline constexpr char kFailed[] = "Failed";

// Live figures of one endpoint, provided by the controller.
class EndpointRuntimeView {
 public:
  virtual ~EndpointRuntimeView() = default;
  // For each variant name: {"CurrentInstanceCount": n, "CurrentWeight": w,
  // "DeployedImages": [...]}; null when nothing runs.
  virtual Json VariantRuntime(std::string_view account_id, std::string_view endpoint_name) = 0;
};

struct HostingOptions {
  std::string region = "local";
  sandbox::InstanceTypes instance_types = sandbox::InstanceTypes::Default();
  int max_endpoints_per_account = 100;
  int max_instances_per_variant = 10;
  // Accepts or rejects an image reference at CreateModel time (e.g. checks the image
  // registry); unset accepts every syntactically valid reference.
  std::function<absl::Status(std::string_view account_id, std::string_view image)> check_image;
};

// A container that names a model package (ModelPackageName) is resolved by the marketplace
// when the model is created: `resolve` returns the container to run — {"ModelPackageName",
// "Image", "ImageAccount", "ModelDataUrl"?, "ModelDataAccount"?, "Environment"?,
// "ProductIds": [...], "Constraints": {"RealtimeInstanceTypes": [...],
// "TransformInstanceTypes": [...]}} — where ImageAccount / ModelDataAccount name the
// account that owns the image and the model data (the escrow account for a product
// version). `check_use` runs before every deployment of such a container (CreateEndpoint,
// UpdateEndpoint, CreateTransformJob): the account must still be entitled to its products.
// Unset hooks refuse ModelPackageName.
struct PackageHooks {
  std::function<absl::StatusOr<Json>(std::string_view account, const Json& container)> resolve;
  std::function<absl::Status(std::string_view account, const Json& container)> check_use;
};

// The account whose image / model data a stored container uses (its own unless the
// container came from a model package of another account).
std::string ImageAccountOf(const Json& container, std::string_view account);
std::string ModelDataAccountOf(const Json& container, std::string_view account);
// Checks a container's instance-type constraints ("RealtimeInstanceTypes" or
// "TransformInstanceTypes") for `type`; ValidationException naming what is supported.
absl::Status CheckContainerInstanceType(const Json& container, std::string_view which,
                                        std::string_view type);
class HostingService {
 public:
  HostingService(MetadataStore& store, const Clock& clock, HostingOptions options);

  // Call before serving.
  void set_package_hooks(PackageHooks hooks) { package_hooks_ = std::move(hooks); }
  // OK unless `container` comes from a model package the account may no longer use.
  absl::Status CheckContainerUse(std::string_view account, const Json& container) const;

  void set_runtime_view(EndpointRuntimeView* view) { view_ = view; }
  void set_changed_callback(std::function<void()> fn) { changed_ = std::move(fn); }
  // Wakes the controller after endpoint records were changed outside this class.
  void NotifyChanged() { Changed(); }

  absl::StatusOr<Json> CreateModel(std::string_view account, const Json& in);
  absl::StatusOr<Json> DescribeModel(std::string_view account, const Json& in);
  // The container a model runs, as stored (with a model package's resolved image and
  // model data); for the platform's own use (transform jobs), never shown to callers.
  absl::StatusOr<Json> ModelContainer(std::string_view account, std::string_view model_name);
  absl::StatusOr<Json> ListModels(std::string_view account, const Json& in);
  absl::StatusOr<Json> DeleteModel(std::string_view account, const Json& in);

  absl::StatusOr<Json> CreateEndpointConfig(std::string_view account, const Json& in);
  absl::StatusOr<Json> DescribeEndpointConfig(std::string_view account, const Json& in);
  absl::StatusOr<Json> ListEndpointConfigs(std::string_view account, const Json& in);
  absl::StatusOr<Json> DeleteEndpointConfig(std::string_view account, const Json& in);

  absl::StatusOr<Json> CreateEndpoint(std::string_view account, const Json& in);
  absl::StatusOr<Json> DescribeEndpoint(std::string_view account, const Json& in);
  absl::StatusOr<Json> ListEndpoints(std::string_view account, const Json& in);
  absl::StatusOr<Json> DeleteEndpoint(std::string_view account, const Json& in);
  absl::StatusOr<Json> UpdateEndpoint(std::string_view account, const Json& in);
  absl::StatusOr<Json> UpdateEndpointWeightsAndCapacities(std::string_view account, const Json& in);

  std::string Arn(std::string_view account, std::string_view type, std::string_view name) const;

 private:
  absl::StatusOr<Json> BuildDeploymentSpec(std::string_view account, std::string_view config_name);
  absl::StatusOr<Json> ValidateContainer(std::string_view account, const Json& c);
  void Changed() {
    if (changed_) changed_();
  }

  MetadataStore& store_;
  const Clock& clock_;
  HostingOptions options_;
  EndpointRuntimeView* view_ = nullptr;
  std::function<void()> changed_;
  PackageHooks package_hooks_;
};

// Record of an endpoint as the controller reads it.
struct EndpointRecord {
  std::string account_id;
  std::string name;
  std::string arn;
  std::string config_name;
  std::string status;
  std::string failure_reason;
  Json spec;          // the deployment in service (or being created)
  Json pending_spec;  // null unless an UpdateEndpoint is in progress
  int64_t created_at = 0;
  int64_t last_modified = 0;
};

// Store access shared by the service and the controller.
absl::StatusOr<std::vector<EndpointRecord>> LoadEndpoints(MetadataStore& store);
// Sets status (and failure reason); when `spec` is non-null it replaces the spec, and
// `clear_pending` drops the pending spec. No-op (OK) if the endpoint is gone.
absl::Status SetEndpointState(MetadataStore& store, const Clock& clock, std::string_view account,
                              std::string_view name, std::string_view status,
                              std::string_view failure_reason, const Json* spec, bool clear_pending,
                              const std::string* config_name = nullptr);
absl::Status DeleteEndpointRecord(MetadataStore& store, std::string_view account,
                                  std::string_view name);

}  // namespace mercato::hosting
