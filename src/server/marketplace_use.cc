// How buyers use what they subscribed to through the SageMaker API: a model whose container
// names a ModelPackageName, a training job whose AlgorithmSpecification names an
// AlgorithmName. Installs HostingService's PackageHooks and TrainingJobRunner's algorithm
// resolver over the marketplace hooks, and provides hooks.stop_product_use (endpoints taken
// out of service, running training and transform jobs stopped).
//
// Who may use what: a caller's own (Completed) packages and algorithms; a package or
// algorithm of the escrow account only through an active entitlement to the product version
// it belongs to (and a restricted version only for subscriptions older than the
// restriction). Anything else is "not found", exactly like a missing name, so a buyer learns
// nothing of other accounts.
#include "base/errors.h"
#include "base/status.h"
#include "commerce/marketplace_rules.h"
#include "fmt/format.h"
#include "hosting/hosting_service.h"
#include "jobs/training_job_runner.h"
#include "jobs/transform_job_runner.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", std::move(message));
}

std::vector<std::string> StringList(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (j.is_object() && j.contains(key) && j[key].is_array()) {
    for (const Json& v : j[key]) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

class MarketplaceUse {
 public:
  explicit MarketplaceUse(MarketplaceContext& ctx) : ctx_(ctx) {}

  // May `account` use the escrowed package or algorithm `arn`? Returns its product id.
  absl::StatusOr<std::string> CheckArnUse(std::string_view account, std::string_view arn,
                                          std::string_view shown_name) {
    const MarketplaceHooks& h = ctx_.hooks;
    if (!h.version_by_arn || !h.check_entitlement) {
      return absl::UnavailableError("the marketplace is not available on this server");
    }
    auto version = h.version_by_arn(arn);
    if (!version.ok()) {
      return Invalid(fmt::format("{} does not exist or is not accessible", shown_name));
    }
    absl::Status entitled = h.check_entitlement(account, version->product_id);
    if (!entitled.ok()) {
      return Invalid(fmt::format("Cannot use {}: {}", shown_name, std::string(entitled.message())));
    }
    if (version->restricted) {
      int64_t since = h.subscribed_since ? h.subscribed_since(account, version->product_id) : 0;
      if (since == 0 || since >= version->restricted_at) {
        return Invalid(fmt::format(
            "Version {} of product {} is restricted by its seller and is not available to new "
            "subscribers",
            version->version, version->product_code));
      }
    }
    return version->product_id;
  }

  // Looks a package or algorithm up and checks the caller may run it.
  absl::StatusOr<Json> Lookup(std::string_view account, std::string_view name,
                              std::string_view kind, Json* product_ids) {
    const std::string shown =
        fmt::format("{} {}", kind == "algorithm" ? "Algorithm" : "Model package", name);
    if (!ctx_.hooks.lookup_package) {
      return Invalid(fmt::format("{}: packages are not available on this server", shown));
    }
    auto found = ctx_.hooks.lookup_package(name, account);
    if (!found.ok() || found->value("Kind", "") != kind) {
      return Invalid(fmt::format("{} does not exist or is not accessible", shown));
    }
    const std::string owner = found->value("Account", "");
    if (owner != account && owner != ctx_.deps.escrow_account) {
      return Invalid(fmt::format("{} does not exist or is not accessible", shown));
    }
    const Json& d = (*found)["Describe"];
    std::string status =
        d.value(kind == "algorithm" ? "AlgorithmStatus" : "ModelPackageStatus", "");
    if (status != "Completed") {
      return Invalid(fmt::format("{} is not ready to use (status {})", shown, status));
    }
    std::vector<std::string> arns = StringList(*found, "MarketplaceArns");
    if (owner == ctx_.deps.escrow_account) arns.push_back(found->value("Arn", ""));
    for (const std::string& arn : arns) {
      ASSIGN_OR_RETURN(std::string product, CheckArnUse(account, arn, shown));
      product_ids->push_back(product);
    }
    return *found;
  }

  absl::StatusOr<Json> ResolveContainer(std::string_view account, const Json& container) {
    const std::string name = container["ModelPackageName"].get<std::string>();
    Json products = Json::array();
    ASSIGN_OR_RETURN(Json found, Lookup(account, name, "model-package", &products));
    const Json containers = found.value("Containers", Json::array());
    if (containers.size() != 1) {
      return Invalid(
          fmt::format("Model package {} has {} inference containers; only one is supported", name,
                      containers.size()));
    }
    const Json& c = containers[0];
    Json out = {{"ModelPackageName", name},
                {"PackageArn", found.value("Arn", "")},
                {"Image", c.value("Image", "")},
                {"ImageAccount", c.value("ImageAccount", found.value("Account", ""))},
                {"ProductIds", products}};
    if (c.contains("ModelDataUrl")) {
      out["ModelDataUrl"] = c["ModelDataUrl"];
      out["ModelDataAccount"] = c.value("ModelDataAccount", found.value("Account", ""));
    }
    if (c.contains("Environment")) out["Environment"] = c["Environment"];
    const Json inference = found["Describe"].value("InferenceSpecification", Json::object());
    out["Constraints"] = {
        {"RealtimeInstanceTypes",
         inference.value("SupportedRealtimeInferenceInstanceTypes", Json::array())},
        {"TransformInstanceTypes",
         inference.value("SupportedTransformInstanceTypes", Json::array())}};
    out["MarketplaceArns"] = found.value("MarketplaceArns", Json::array());
    if (found.value("Account", "") == ctx_.deps.escrow_account) {
      out["MarketplaceArns"].push_back(found.value("Arn", ""));
    }
    return out;
  }

  absl::Status CheckContainerUse(std::string_view account, const Json& container) {
    const std::string name = container.value("ModelPackageName", "");
    for (const Json& arn : container.value("MarketplaceArns", Json::array())) {
      RETURN_IF_ERROR(
          CheckArnUse(account, arn.get<std::string>(), "Model package " + name).status());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<jobs::ResolvedAlgorithm> ResolveAlgorithm(std::string_view account,
                                                           const Json& in) {
    const std::string name = in["AlgorithmSpecification"]["AlgorithmName"].get<std::string>();
    Json products = Json::array();
    ASSIGN_OR_RETURN(Json found, Lookup(account, name, "algorithm", &products));
    const Json training = found["Describe"].value("TrainingSpecification", Json::object());
    ASSIGN_OR_RETURN(Json request, commerce::ResolveAlgorithmTraining(
                                       in, training, name, training.value("TrainingImage", "")));
    std::vector<std::string> ids;
    for (const Json& p : products) ids.push_back(p.get<std::string>());
    return jobs::ResolvedAlgorithm{std::move(request), found.value("Account", ""), std::move(ids)};
  }

  // Takes the account's endpoints that run the product out of service.
  absl::Status StopProductUse(std::string_view account, std::string_view product_id,
                              std::string_view reason) {
    ASSIGN_OR_RETURN(std::vector<hosting::EndpointRecord> endpoints,
                     hosting::LoadEndpoints(ctx_.deps.store));
    int stopped = 0;
    for (const auto& e : endpoints) {
      if (e.account_id != account || e.status == hosting::kDeleting ||
          e.status == hosting::kFailed) {
        continue;
      }
      bool uses = false;
      for (const Json* spec : {&e.spec, &e.pending_spec}) {
        if (!spec->is_object()) continue;
        for (const Json& v : spec->value("Variants", Json::array())) {
          for (const Json& p : v["Container"].value("ProductIds", Json::array())) {
            if (p == product_id) uses = true;
          }
        }
      }
      if (!uses) continue;
      RETURN_IF_ERROR(hosting::SetEndpointState(ctx_.deps.store, ctx_.deps.clock, account, e.name,
                                                hosting::kFailed, reason, nullptr, true));
      ++stopped;
    }
    if (stopped > 0) {
      spdlog::info("marketplace: stopped {} endpoint(s) of {} using {}: {}", stopped, account,
                   product_id, reason);
      ctx_.deps.hosting.NotifyChanged();
    }
    return StopJobs(account, product_id);
  }

  // Stops the account's training and transform jobs that still run the product (their open
  // instance rows name it).
  absl::Status StopJobs(std::string_view account, std::string_view product_id) {
    const std::string like = fmt::format("%\"{}\"%", product_id);
    for (const char* table : {"training_job_instances", "transform_job_instances"}) {
      ASSIGN_OR_RETURN(SqlRows rows, ctx_.deps.store.Query(
                                         fmt::format("SELECT DISTINCT job_name FROM {} WHERE "
                                                     "account_id = ? AND stopped_at IS NULL AND "
                                                     "product_ids LIKE ?",
                                                     table),
                                         {std::string(account), like}));
      for (const SqlRow& r : rows) {
        const bool training = std::string_view(table) == "training_job_instances";
        absl::StatusOr<Json> out =
            training ? (ctx_.deps.training
                            ? ctx_.deps.training->Stop(account, {{"TrainingJobName", r.Text(0)}})
                            : absl::UnavailableError("no training"))
                     : (ctx_.deps.transform
                            ? ctx_.deps.transform->Stop(account, {{"TransformJobName", r.Text(0)}})
                            : absl::UnavailableError("no transform"));
        if (!out.ok()) {
          spdlog::warn("marketplace: cannot stop job {} of {}: {}", r.Text(0), account,
                       out.status().ToString());
        } else {
          spdlog::info("marketplace: stopped job {} of {} using {}", r.Text(0), account,
                       product_id);
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  MarketplaceContext& ctx_;
};

class UsePart final : public MarketplacePart {
 public:
  explicit UsePart(MarketplaceContext& ctx) : use_(ctx) {}
  MarketplaceUse& use() { return use_; }

 private:
  MarketplaceUse use_;
};

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildUsePart(MarketplaceContext& ctx) {
  auto part = std::make_unique<UsePart>(ctx);
  MarketplaceUse* use = &part->use();
  ctx.deps.hosting.set_package_hooks(
      {.resolve = [use](std::string_view account,
                        const Json& c) { return use->ResolveContainer(account, c); },
       .check_use = [use](std::string_view account,
                          const Json& c) { return use->CheckContainerUse(account, c); }});
  if (ctx.deps.training != nullptr) {
    ctx.deps.training->set_algorithm_resolver([use](std::string_view account, const Json& in) {
      return use->ResolveAlgorithm(account, in);
    });
  }
  ctx.hooks.stop_product_use = [use](std::string_view account, std::string_view product_id,
                                     std::string_view reason) {
    return use->StopProductUse(account, product_id, reason);
  };
  return part;
}

}  // namespace mercato::server
