// The marketplace vertical of mercatod (DESIGN.md §3): packages (algorithms and model
// packages, validation, escrow), products (listings, versions, offers, search, reviews),
// sellers and notifications, subscriptions and entitlements.
//
// Each part is built by its own function (packages_wiring.cc, products_wiring.cc,
// sellers_wiring.cc, subscriptions_wiring.cc) from one MarketplaceContext. Parts talk to
// each other only through the MarketplaceHooks below: a part fills the hooks it provides
// while it is built and calls the others' hooks at run time (never while being built), so
// the build order does not matter. Every hook is thread-safe.
//
// Ownership: the context borrows everything in MarketplaceDeps; each part owns its services
// (returned as a MarketplacePart) and must be stopped (Stop) before the deps go away.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/sagemaker/sagemaker_api.h"
#include "api/v1/v1_api.h"
#include "auth/accounts.h"
#include "base/clock.h"
#include "base/json.h"
#include "blob/blob_store.h"
#include "http/message.h"
#include "image/image_registry.h"
#include "server/config.h"
#include "storage/object_store.h"
#include "store/metadata_store.h"

namespace mercato::hosting {
class HostingService;
class InferenceObserver;
}  // namespace mercato::hosting
namespace mercato::jobs {
class TrainingJobRunner;
class TransformJobRunner;
}  // namespace mercato::jobs

namespace mercato::api::marketplace {
class MarketplaceApi;
}

namespace mercato::server {

// A product version as the entitlement checks see it (products part).
struct VersionRef {
  std::string product_id;    // e.g. "prod-3kq9x7w2mz4c1"
  std::string product_code;  // stable code shown to buyers
  std::string seller_account;
  std::string visibility;  // Draft | Limited | Public | Restricted
  std::string version;     // "1.0"
  bool restricted = false;
  int64_t restricted_at = 0;  // micros; 0 unless restricted
  std::string kind;           // "model-package" | "algorithm"
  std::string escrowed_arn;   // the ARN buyers use
};

// What a product offers to subscribe to (products part).
struct ProductRef {
  std::string product_id;
  std::string product_code;
  std::string title;
  std::string seller_account;
  std::string visibility;
  std::vector<std::string> allow_list;     // buyer account ids (Limited)
  std::vector<std::string> test_accounts;  // the seller's test accounts
  Json offer;                              // prices and trial (kept as data)
  std::string eula;
  int64_t removed_at = 0;  // micros; set when it became Restricted by removal
};

struct MarketplaceHooks {
  // -- sellers part --
  // OK when the account registered as a seller; else FailedPrecondition with a message
  // telling how to register.
  std::function<absl::Status(std::string_view account)> require_seller;
  // Records a notification for `account` (and posts it to the account's webhook, if any).
  // `type` e.g. "product.removed"; `data` free-form JSON.
  std::function<void(std::string_view account, std::string_view type, std::string_view subject,
                     std::string_view message, const Json& data)>
      notify;

  // -- packages part --
  // Copies the Completed source algorithm/model package `source_arn` (owned by `seller`)
  // into the escrow account as `escrow_name`, pinning its image(s) by digest and copying
  // its model data, so nothing the seller later changes affects it. Returns
  // {"Arn", "Kind": "model-package"|"algorithm", "Spec": <the escrowed Describe output>,
  //  "ImageDigests": [...], "ModelDataDigests": [...]}. FailedPrecondition (with the
  // reason) when the source is not Completed, not certified for the marketplace, or has a
  // high-severity scan finding.
  std::function<absl::StatusOr<Json>(std::string_view seller, std::string_view source_arn,
                                     std::string_view escrow_name)>
      escrow;
  // The full (internal) record of an algorithm or model package by name or ARN, with no
  // access check: {"Kind", "Arn", "Account", "Describe": <DescribeX output>}. NotFound if
  // none.
  std::function<absl::StatusOr<Json>(std::string_view name_or_arn, std::string_view caller_account)>
      lookup_package;

  // -- products part --
  // The product version whose escrowed package or algorithm is `arn`; NotFound if none.
  std::function<absl::StatusOr<VersionRef>(std::string_view arn)> version_by_arn;
  // A product by id or product code; NotFound if none.
  std::function<absl::StatusOr<ProductRef>(std::string_view id_or_code)> product;

  // The console's public product pages (/console/products/CODE?ref=TAG); App installs it on
  // the dispatcher. Returns nullopt for paths it does not serve.
  std::function<std::optional<http::Response>(const http::Request&)> console_page;

  // -- hosting integration (marketplace_wiring.cc) --
  // Stops everything `account` runs from the product (its endpoints are taken out of
  // service with `reason`), e.g. when a removed product's grace period ends.
  std::function<absl::Status(std::string_view account, std::string_view product_id,
                             std::string_view reason)>
      stop_product_use;

  // -- subscriptions part --
  // OK when `account` may use the product (active subscription, or within a removal grace
  // period); else FailedPrecondition naming the product and why.
  std::function<absl::Status(std::string_view account, std::string_view product_id)>
      check_entitlement;
  // When the account's Active subscription to the product began (micros), 0 if none.
  std::function<int64_t(std::string_view account, std::string_view product_id)> subscribed_since;
  // True when `account` holds (or held) a subscription to the product (reviews).
  std::function<bool(std::string_view account, std::string_view product_id)> is_subscriber;
  // OK when `caller` may see `arn` (an escrowed package/algorithm): the product is Public,
  // or Limited and the caller is allowed, or the caller is subscribed.
  std::function<absl::Status(std::string_view caller, std::string_view arn)> can_view_package;
  // Called by the products part when a product is removed (it is then Restricted): starts
  // the subscribers' grace period and notifies them.
  std::function<void(std::string_view product_id)> on_product_removed;

  // -- billing part --
  // Called by the products part after a product's offer changed: price changes reach the
  // subscribers (notice periods, notifications).
  std::function<void(std::string_view product_id)> on_offer_changed;

  // -- metering part --
  // Receives billable inferences from the invocation router (App installs it); null when
  // metering is not built. Lives as long as the marketplace.
  hosting::InferenceObserver* inference_observer = nullptr;
  // Meters everything up to now at once (one tick), e.g. before a month is closed.
  std::function<absl::Status()> flush_usage;

  // -- anyone --
  // Called after the operator moved the test clock; parts with time-driven work append a
  // callback that wakes it (the subscriptions sweeper, the billing closer).
  std::vector<std::function<void()>> on_clock_changed;
};

struct MarketplaceDeps {
  const Config& config;
  MetadataStore& store;
  BlobStore& blobs;
  const Clock& clock;
  ManualClock* test_clock;  // non-null only under --test-clock
  std::string master_key;   // 32 raw bytes (base/aead.h), for secrets at rest
  auth::AccountService& accounts;
  ImageRegistry& images;
  storage::ObjectStore& objects;
  api::v1::V1Api& v1;
  api::sagemaker::SageMakerApi& sagemaker;
  hosting::HostingService& hosting;
  jobs::TrainingJobRunner* training;    // null when the sandbox is unavailable
  jobs::TransformJobRunner* transform;  // likewise
  // The platform-owned account that holds escrowed images, model data and packages.
  std::string escrow_account;
  std::string region;
  int removal_grace_days = 90;
  // How clients reach this server (scheme://host:port, the real port even when listening
  // on port 0): product URLs and links in notifications use it.
  std::string public_url;
  // The JSON 1.1 facade for X-Amz-Target marketplace services (MarketplaceCommerceAnalytics
  // and later others); parts register their actions on it.
  api::marketplace::MarketplaceApi* marketplace_api = nullptr;
};

struct MarketplaceContext {
  MarketplaceDeps deps;
  MarketplaceHooks hooks;
};

// What a part owns. Start() runs after every part is built (background work may begin);
// Stop() before anything borrowed is destroyed; both idempotent.
class MarketplacePart {
 public:
  virtual ~MarketplacePart() = default;
  virtual void Start() {}
  virtual void Stop() {}
};
using MarketplacePartPtr = std::unique_ptr<MarketplacePart>;

absl::StatusOr<MarketplacePartPtr> BuildPackagesPart(MarketplaceContext& ctx);
absl::StatusOr<MarketplacePartPtr> BuildProductsPart(MarketplaceContext& ctx);
absl::StatusOr<MarketplacePartPtr> BuildSellersPart(MarketplaceContext& ctx);
absl::StatusOr<MarketplacePartPtr> BuildSubscriptionsPart(MarketplaceContext& ctx);
// Commerce (issue 6).
absl::StatusOr<MarketplacePartPtr> BuildMeteringPart(MarketplaceContext& ctx);
absl::StatusOr<MarketplacePartPtr> BuildBillingPart(MarketplaceContext& ctx);
absl::StatusOr<MarketplacePartPtr> BuildReportsPart(MarketplaceContext& ctx);
// Buyers' use through SageMaker (marketplace_use.cc): model packages in CreateModel,
// algorithms in CreateTrainingJob, and hooks.stop_product_use. Always built.
absl::StatusOr<MarketplacePartPtr> BuildUsePart(MarketplaceContext& ctx);

// Builds every part that is compiled in, in one object that App owns.
class Marketplace {
 public:
  static absl::StatusOr<std::unique_ptr<Marketplace>> Build(MarketplaceDeps deps);
  ~Marketplace();
  void Start();
  void Stop();
  MarketplaceContext& context() { return *ctx_; }

 private:
  Marketplace() = default;
  std::unique_ptr<MarketplaceContext> ctx_;
  std::vector<MarketplacePartPtr> parts_;
};

}  // namespace mercato::server
