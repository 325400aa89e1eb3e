// Builds the products part of the marketplace (marketplace.h): product listings, escrowed
// versions, offers, the buyers' catalog (SQLite FTS5 search) and reviews. Provides the hooks
// version_by_arn and product; calls require_seller, escrow, is_subscriber and
// on_product_removed at run time (an unset hook fails with Unavailable, or is skipped for
// on_product_removed).
#include "api/v1/product_page.h"
#include "api/v1/product_routes.h"
#include "base/status.h"
#include "catalog/catalog_service.h"
#include "catalog/product_service.h"
#include "catalog/review_service.h"
#include "catalog/search_index_fts5.h"
#include "fmt/format.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace mercato::server {
namespace {

constexpr char kEscrowBucket[] = "mercato-escrow";

class ProductsPart final : public MarketplacePart {
 public:
  catalog::SearchIndexPtr index;
  std::unique_ptr<catalog::ProductService> products;
  std::unique_ptr<catalog::CatalogService> catalog;
  std::unique_ptr<catalog::ReviewService> reviews;
};

// An object's bytes as a response body.
class ObjectBody final : public http::BodySource {
 public:
  explicit ObjectBody(storage::ObjectReaderPtr reader) : reader_(std::move(reader)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override { return reader_->Read(buf, n); }
  std::optional<uint64_t> size() const override { return reader_->info().size; }

 private:
  storage::ObjectReaderPtr reader_;
};

VersionRef ToVersionRef(const catalog::Product& p, const catalog::ProductVersion& v) {
  return VersionRef{p.id,         p.code,          p.seller_account, p.visibility,  v.version,
                    v.restricted, v.restricted_at, v.kind,           v.escrowed_arn};
}

ProductRef ToProductRef(const catalog::Product& p) {
  return ProductRef{p.id,         p.code,          p.title, p.seller_account, p.visibility,
                    p.allow_list, p.test_accounts, p.offer, p.eula,           p.removed_at};
}

}  // namespace

absl::StatusOr<MarketplacePartPtr> BuildProductsPart(MarketplaceContext& ctx) {
  MarketplaceDeps& deps = ctx.deps;
  MarketplaceHooks& hooks = ctx.hooks;  // stable: owned by the Marketplace
  auto part = std::make_unique<ProductsPart>();
  ASSIGN_OR_RETURN(part->index, catalog::Fts5SearchIndex::Create(deps.store));

  catalog::ProductServiceOptions po;
  po.require_seller = [&hooks](std::string_view account) -> absl::Status {
    if (!hooks.require_seller)
      return absl::UnavailableError("seller registration is not available");
    return hooks.require_seller(account);
  };
  po.escrow = [&hooks](std::string_view seller, std::string_view arn,
                       std::string_view name) -> absl::StatusOr<Json> {
    if (!hooks.escrow) return absl::UnavailableError("package escrow is not available");
    return hooks.escrow(seller, arn, name);
  };
  po.on_offer_changed = [&hooks](std::string_view product_id) {
    if (hooks.on_offer_changed) hooks.on_offer_changed(product_id);
  };
  po.on_removed = [&hooks](std::string_view product_id) {
    if (hooks.on_product_removed) {
      hooks.on_product_removed(product_id);
    } else {
      spdlog::warn("product {} removed; no subscriptions part to notify", product_id);
    }
  };
  storage::ObjectStore& objects = deps.objects;
  std::string escrow = deps.escrow_account;
  std::string region = deps.region;
  po.copy_sample_data = [&objects, escrow, region](
                            std::string_view seller, std::string_view uri,
                            std::string_view dest_key) -> absl::StatusOr<Json> {
    ASSIGN_OR_RETURN(storage::S3Uri src, storage::ObjectStore::ParseS3Uri(uri));
    RETURN_IF_ERROR(objects.EnsureBucket(escrow, kEscrowBucket, region));
    ASSIGN_OR_RETURN(storage::ObjectInfo info,
                     objects.Copy(seller, src.bucket, src.key, escrow, kEscrowBucket, dest_key));
    return Json{{"Bucket", kEscrowBucket}, {"Key", std::string(dest_key)}, {"Size", info.size}};
  };
  po.console_base = deps.public_url;
  auto is_subscriber = [&hooks](std::string_view account, std::string_view product_id) {
    return hooks.is_subscriber && hooks.is_subscriber(account, product_id);
  };
  part->products = std::make_unique<catalog::ProductService>(deps.store, deps.blobs, *part->index,
                                                             deps.clock, std::move(po));
  part->catalog = std::make_unique<catalog::CatalogService>(
      deps.store, deps.blobs, *part->index, deps.clock,
      catalog::CatalogServiceOptions{is_subscriber, deps.public_url});
  part->reviews =
      std::make_unique<catalog::ReviewService>(deps.store, *part->catalog, *part->index, deps.clock,
                                               catalog::ReviewServiceOptions{is_subscriber});

  catalog::ProductService* products = part->products.get();
  hooks.version_by_arn = [products](std::string_view arn) -> absl::StatusOr<VersionRef> {
    ASSIGN_OR_RETURN(auto found, products->VersionByArn(arn));
    return ToVersionRef(found.first, found.second);
  };
  hooks.product = [products](std::string_view id_or_code) -> absl::StatusOr<ProductRef> {
    ASSIGN_OR_RETURN(catalog::Product p, products->Find(id_or_code));
    return ToProductRef(p);
  };

  api::v1::ProductRouteDeps routes{
      *part->products, *part->catalog, *part->reviews,
      [&objects, escrow](const Json& where) -> absl::StatusOr<http::BodySourcePtr> {
        ASSIGN_OR_RETURN(storage::ObjectReaderPtr reader,
                         objects.Open(escrow, where.value("Bucket", ""), where.value("Key", "")));
        return http::BodySourcePtr(std::make_unique<ObjectBody>(std::move(reader)));
      }};
  api::v1::AddProductRoutes(deps.v1, routes);
  api::v1::AddCatalogRoutes(deps.v1, routes);
  catalog::CatalogService* catalog = part->catalog.get();
  ctx.hooks.console_page = [catalog](const http::Request& request) {
    return api::v1::ProductPage(*catalog, request);
  };
  api::v1::AddReviewRoutes(deps.v1, routes);
  return part;
}

}  // namespace mercato::server
