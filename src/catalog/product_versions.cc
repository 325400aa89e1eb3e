// ProductService: escrowed versions, visibility and removal (product_service.h).
#include <algorithm>
#include <cctype>

#include "base/errors.h"
#include "base/status.h"
#include "catalog/offer.h"
#include "catalog/product_service.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::Status State(std::string message) {
  return AwsError(absl::StatusCode::kFailedPrecondition, "InvalidState", message);
}

bool ValidVersionLabel(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  bool prev_sep = true;  // no leading separator
  for (char c : v) {
    bool sep = c == '.' || c == '-';
    if (sep && prev_sep) return false;
    if (!sep && !std::isalnum(static_cast<unsigned char>(c))) return false;
    prev_sep = sep;
  }
  return !prev_sep;
}

absl::Status SaveVersion(Transaction& tx, const ProductVersion& v) {
  return tx
      .Exec(fmt::format("INSERT INTO product_versions ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                        " ?, ?) ON CONFLICT (product_id, version) DO UPDATE SET"
                        " restricted = excluded.restricted, restricted_at = excluded.restricted_at",
                        kVersionColumns),
            {v.product_id, v.version, v.kind, v.source_arn, v.escrowed_arn, v.release_notes,
             v.image_digests.dump(), v.model_data_digests.dump(), v.spec.dump(),
             int64_t{v.restricted ? 1 : 0}, v.restricted_at, v.created_at})
      .status();
}

bool HasOpenVersion(const std::vector<ProductVersion>& versions) {
  return std::any_of(versions.begin(), versions.end(),
                     [](const ProductVersion& v) { return !v.restricted; });
}

}  // namespace

absl::StatusOr<ProductVersion> ProductService::AddVersion(std::string_view seller,
                                                          std::string_view id,
                                                          std::string_view source_arn,
                                                          std::string_view version,
                                                          std::string_view release_notes) {
  if (!ValidVersionLabel(version)) {
    return Invalid(fmt::format(
        "version \"{}\" must be letters and digits joined by '.' or '-' (at most 32), e.g. 1.1",
        version));
  }
  if (source_arn.empty())
    return Invalid("--source (an algorithm or model package ARN) is required");
  if (release_notes.size() > 50'000) return Invalid("release notes are longer than 50000");
  if (!options_.escrow) return absl::UnavailableError("package escrow is not available");
  // Checked before escrowing so that a duplicate never leaves an orphan escrowed copy; the
  // primary key settles a race.
  ASSIGN_OR_RETURN(Product p, Get(seller, id));
  if (p.visibility == kRestricted) {
    return State(fmt::format("Product {} was removed (Restricted) and cannot change.", p.id));
  }
  ASSIGN_OR_RETURN(std::vector<ProductVersion> existing, LoadVersions(store_, p.id));
  for (const ProductVersion& v : existing) {
    if (v.version == version) {
      return AwsError(absl::StatusCode::kAlreadyExists, "VersionExists",
                      fmt::format("Product {} already has version {}.", p.id, version));
    }
  }
  ASSIGN_OR_RETURN(Json escrowed, options_.escrow(seller, source_arn, EscrowName(p.code, version)));
  ProductVersion v;
  v.product_id = p.id;
  v.version = std::string(version);
  v.kind = escrowed.value("Kind", "");
  v.source_arn = std::string(source_arn);
  v.escrowed_arn = escrowed.value("Arn", "");
  v.release_notes = std::string(release_notes);
  v.image_digests = escrowed.value("ImageDigests", Json::array());
  v.model_data_digests = escrowed.value("ModelDataDigests", Json::array());
  v.spec = escrowed.value("Spec", Json::object());
  v.created_at = NowMicros();
  if (v.escrowed_arn.empty() || (v.kind != "model-package" && v.kind != "algorithm")) {
    return absl::InternalError("escrow returned no Arn or an unknown Kind");
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Product cur, OwnedForUpdate(*tx, seller, p.id));
  if (!cur.kind.empty() && cur.kind != v.kind) {
    return State(fmt::format(
        "Product {} lists {} versions; {} is a {}: all versions of a product are the same kind.",
        cur.id, cur.kind, source_arn, v.kind));
  }
  cur.kind = v.kind;
  cur.updated_at = v.created_at;
  absl::Status saved = SaveVersion(*tx, v);
  if (absl::IsAlreadyExists(saved)) {
    return AwsError(
        absl::StatusCode::kAlreadyExists, "VersionExists",
        fmt::format("Product {} already has version {} or its escrowed ARN.", cur.id, version));
  }
  RETURN_IF_ERROR(saved);
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(*tx, cur.id));
  RETURN_IF_ERROR(SaveProduct(*tx, cur));
  RETURN_IF_ERROR(Reindex(*tx, cur, versions));
  RETURN_IF_ERROR(tx->Commit());
  return v;
}

absl::StatusOr<ProductVersion> ProductService::SetVersionRestricted(std::string_view seller,
                                                                    std::string_view id,
                                                                    std::string_view version,
                                                                    bool restricted) {
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Product p, OwnedForUpdate(*tx, seller, id));
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(*tx, p.id));
  auto it = std::find_if(versions.begin(), versions.end(),
                         [&](const ProductVersion& v) { return v.version == version; });
  if (it == versions.end()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Product {} has no version {}.", p.id, version));
  }
  if (it->restricted == restricted) return *it;  // idempotent
  it->restricted = restricted;
  it->restricted_at = restricted ? NowMicros() : 0;
  if (restricted && (p.visibility == kPublic || p.visibility == kLimited) &&
      !HasOpenVersion(versions)) {
    return State(fmt::format(
        "Version {} is the last unrestricted version of listed product {}; add another version "
        "first.",
        version, p.id));
  }
  RETURN_IF_ERROR(SaveVersion(*tx, *it));
  p.updated_at = NowMicros();
  RETURN_IF_ERROR(SaveProduct(*tx, p));
  RETURN_IF_ERROR(Reindex(*tx, p, versions));
  RETURN_IF_ERROR(tx->Commit());
  return *it;
}

absl::StatusOr<Product> ProductService::SetVisibility(
    std::string_view seller, std::string_view id, std::string_view visibility,
    std::optional<std::vector<std::string>> allow_list) {
  if (visibility != kLimited && visibility != kPublic) {
    return Invalid(fmt::format(
        "Visibility must be Limited or Public (remove a product to restrict it), got \"{}\"",
        visibility));
  }
  if (allow_list) {
    if (visibility != kLimited) return Invalid("AllowList is only for Limited visibility");
    for (const std::string& a : *allow_list) {
      if (!IsAccountId(a)) return Invalid(fmt::format("AllowList: {} is not an account id", a));
    }
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Product p, OwnedForUpdate(*tx, seller, id));
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(*tx, p.id));
  if (!HasOpenVersion(versions)) {
    return State(fmt::format(
        "Product {} has no unrestricted version: add one (mercato product add-version) before "
        "making it {}.",
        p.id, visibility));
  }
  p.visibility = std::string(visibility);
  if (allow_list) {
    p.allow_list.clear();
    for (const std::string& a : *allow_list) {
      if (std::find(p.allow_list.begin(), p.allow_list.end(), a) == p.allow_list.end()) {
        p.allow_list.push_back(a);
      }
    }
  }
  p.updated_at = NowMicros();
  if (p.published_at == 0) p.published_at = p.updated_at;
  RETURN_IF_ERROR(SaveProduct(*tx, p));
  RETURN_IF_ERROR(Reindex(*tx, p, versions));
  RETURN_IF_ERROR(tx->Commit());
  return p;
}

absl::StatusOr<Product> ProductService::Remove(std::string_view seller, std::string_view id) {
  Product p;
  {
    ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
    ASSIGN_OR_RETURN(p, OwnedForUpdate(*tx, seller, id));
    p.visibility = std::string(kRestricted);
    p.removed_at = p.updated_at = NowMicros();
    ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(*tx, p.id));
    RETURN_IF_ERROR(SaveProduct(*tx, p));
    RETURN_IF_ERROR(Reindex(*tx, p, versions));
    RETURN_IF_ERROR(tx->Commit());
  }
  // After the commit: the subscriptions part reads the product as Restricted.
  if (options_.on_removed) options_.on_removed(p.id);
  return p;
}

absl::StatusOr<std::pair<Product, ProductVersion>> ProductService::VersionByArn(
    std::string_view arn) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(fmt::format("SELECT {} FROM product_versions WHERE"
                                                          " escrowed_arn = ?",
                                                          kVersionColumns),
                                              {std::string(arn)}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("No product version is escrowed as {}.", arn));
  }
  ProductVersion v = VersionFromRow(rows[0]);
  ASSIGN_OR_RETURN(Product p, LoadProduct(store_, v.product_id));
  return std::make_pair(std::move(p), std::move(v));
}

}  // namespace mercato::catalog
