// Row <-> struct for products and versions (see product_types.h).
#include <algorithm>

#include "base/errors.h"
#include "base/status.h"
#include "catalog/product_types.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

constexpr std::string_view kProductColumns =
    "id, code, seller_account, title, short_description, long_description, usage_instructions,"
    " preprocessing, categories, highlights, support_contact, eula, logo_blob, logo_type,"
    " notebook_blob, sample_data, instance_types, visibility, kind, offer, is_free,"
    " free_trial_days, allow_list, test_accounts, rating_sum, rating_count, created_at,"
    " updated_at, published_at, removed_at";

std::vector<std::string> StringList(const std::string& text) {
  std::vector<std::string> out;
  auto j = ParseJson(text);
  if (!j.ok() || !j->is_array()) return out;
  for (const Json& v : *j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Json JsonOr(const std::string& text, Json dflt) {
  auto j = ParseJson(text);
  return j.ok() ? *j : dflt;
}

Product ProductFromRow(const SqlRow& r) {
  Product p;
  size_t i = 0;
  p.id = r.Text(i++);
  p.code = r.Text(i++);
  p.seller_account = r.Text(i++);
  p.title = r.Text(i++);
  p.short_description = r.Text(i++);
  p.long_description = r.Text(i++);
  p.usage_instructions = r.Text(i++);
  p.preprocessing = r.Text(i++);
  p.categories = StringList(r.Text(i++));
  p.highlights = StringList(r.Text(i++));
  p.support_contact = r.Text(i++);
  p.eula = r.Text(i++);
  p.logo_blob = r.Text(i++);
  p.logo_type = r.Text(i++);
  p.notebook_blob = r.Text(i++);
  p.sample_data = JsonOr(r.Text(i++), Json::object());
  p.instance_types = StringList(r.Text(i++));
  p.visibility = r.Text(i++);
  p.kind = r.Text(i++);
  p.offer = JsonOr(r.Text(i++), Json::object());
  p.is_free = r.Int(i++) != 0;
  p.free_trial_days = r.Int(i++);
  p.allow_list = StringList(r.Text(i++));
  p.test_accounts = StringList(r.Text(i++));
  p.rating_sum = r.Int(i++);
  p.rating_count = r.Int(i++);
  p.created_at = r.Int(i++);
  p.updated_at = r.Int(i++);
  p.published_at = r.Int(i++);
  p.removed_at = r.Int(i++);
  return p;
}

template <typename Q>
absl::StatusOr<Product> LoadProductImpl(Q& q, std::string_view id_or_code) {
  std::string key(id_or_code);
  std::string col = key.rfind("prod-", 0) == 0 ? "id" : "code";
  ASSIGN_OR_RETURN(
      SqlRows rows,
      q.Query(fmt::format("SELECT {} FROM products WHERE {} = ?", kProductColumns, col), {key}));
  if (rows.empty()) return NoSuchProduct(id_or_code);
  return ProductFromRow(rows[0]);
}

template <typename Q>
absl::StatusOr<std::vector<ProductVersion>> LoadVersionsImpl(Q& q, std::string_view product_id) {
  ASSIGN_OR_RETURN(SqlRows rows, q.Query(fmt::format("SELECT {} FROM product_versions WHERE"
                                                     " product_id = ? ORDER BY created_at, version",
                                                     kVersionColumns),
                                         {std::string(product_id)}));
  std::vector<ProductVersion> out;
  for (const SqlRow& r : rows) out.push_back(VersionFromRow(r));
  return out;
}

std::string Dump(const std::vector<std::string>& v) { return Json(v).dump(); }

}  // namespace

absl::Status NoSuchProduct(std::string_view id_or_code) {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                  fmt::format("Product {} does not exist.", id_or_code));
}

ProductVersion VersionFromRow(const SqlRow& r) {
  ProductVersion v;
  v.product_id = r.Text(0);
  v.version = r.Text(1);
  v.kind = r.Text(2);
  v.source_arn = r.Text(3);
  v.escrowed_arn = r.Text(4);
  v.release_notes = r.Text(5);
  v.image_digests = JsonOr(r.Text(6), Json::array());
  v.model_data_digests = JsonOr(r.Text(7), Json::array());
  v.spec = JsonOr(r.Text(8), Json::object());
  v.restricted = r.Int(9) != 0;
  v.restricted_at = r.Int(10);
  v.created_at = r.Int(11);
  return v;
}

absl::StatusOr<Product> LoadProduct(MetadataStore& store, std::string_view id_or_code) {
  return LoadProductImpl(store, id_or_code);
}
absl::StatusOr<Product> LoadProduct(Transaction& tx, std::string_view id_or_code) {
  return LoadProductImpl(tx, id_or_code);
}
absl::StatusOr<std::vector<ProductVersion>> LoadVersions(MetadataStore& store,
                                                         std::string_view product_id) {
  return LoadVersionsImpl(store, product_id);
}
absl::StatusOr<std::vector<ProductVersion>> LoadVersions(Transaction& tx,
                                                         std::string_view product_id) {
  return LoadVersionsImpl(tx, product_id);
}

absl::StatusOr<std::vector<Product>> LoadProducts(MetadataStore& store,
                                                  const std::vector<std::string>& ids) {
  std::vector<Product> out;
  if (ids.empty()) return out;
  std::string marks;
  SqlParams params;
  for (const std::string& id : ids) {
    marks += marks.empty() ? "?" : ", ?";
    params.push_back(id);
  }
  ASSIGN_OR_RETURN(SqlRows rows, store.Query(fmt::format("SELECT {} FROM products WHERE id IN ({})",
                                                         kProductColumns, marks),
                                             params));
  std::vector<Product> found;
  for (const SqlRow& r : rows) found.push_back(ProductFromRow(r));
  for (const std::string& id : ids) {
    auto it =
        std::find_if(found.begin(), found.end(), [&](const Product& p) { return p.id == id; });
    if (it != found.end()) out.push_back(std::move(*it));
  }
  return out;
}

absl::Status SaveProduct(Transaction& tx, const Product& p) {
  SqlParams params = {p.id,
                      p.code,
                      p.seller_account,
                      p.title,
                      p.short_description,
                      p.long_description,
                      p.usage_instructions,
                      p.preprocessing,
                      Dump(p.categories),
                      Dump(p.highlights),
                      p.support_contact,
                      p.eula,
                      p.logo_blob,
                      p.logo_type,
                      p.notebook_blob,
                      p.sample_data.dump(),
                      Dump(p.instance_types),
                      p.visibility,
                      p.kind,
                      p.offer.dump(),
                      int64_t{p.is_free ? 1 : 0},
                      p.free_trial_days,
                      Dump(p.allow_list),
                      Dump(p.test_accounts),
                      p.rating_sum,
                      p.rating_count,
                      p.created_at,
                      p.updated_at,
                      p.published_at,
                      p.removed_at};
  std::string marks;
  for (size_t i = 0; i < params.size(); ++i) marks += i ? ", ?" : "?";
  // Every column but id is replaced; spelled out so the statement stays portable.
  std::string sets;
  std::string cols(kProductColumns);
  size_t start = cols.find(',') + 1;
  while (start < cols.size()) {
    size_t end = cols.find(',', start);
    if (end == std::string::npos) end = cols.size();
    std::string c = cols.substr(start, end - start);
    c.erase(0, c.find_first_not_of(' '));
    sets += fmt::format("{}{} = excluded.{}", sets.empty() ? "" : ", ", c, c);
    start = end + 1;
  }
  return tx
      .Exec(fmt::format("INSERT INTO products ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
                        kProductColumns, marks, sets),
            params)
      .status();
}

bool CanBrowse(const Product& p, std::string_view viewer) {
  if (!viewer.empty() && viewer == p.seller_account) return true;
  if (p.visibility == kPublic) return true;
  if (p.visibility == kLimited && !viewer.empty()) {
    auto has = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), viewer) != v.end();
    };
    return has(p.allow_list) || has(p.test_accounts);
  }
  return false;
}

}  // namespace mercato::catalog
