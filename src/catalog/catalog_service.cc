#include "catalog/catalog_service.h"

#include <cctype>
#include <cstdlib>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

bool ValidRef(std::string_view ref) {
  if (ref.size() > 64) return false;
  for (char c : ref) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string EncodePageToken(size_t offset) { return Base64Encode(fmt::format("o:{}", offset)); }

absl::StatusOr<size_t> DecodePageToken(std::string_view token) {
  auto raw = Base64Decode(token);
  if (!raw.ok() || raw->size() < 3 || raw->substr(0, 2) != "o:") {
    return Invalid("NextToken is not a token this server issued");
  }
  char* end = nullptr;
  unsigned long long n = std::strtoull(raw->c_str() + 2, &end, 10);
  if (*end != '\0') return Invalid("NextToken is not a token this server issued");
  return static_cast<size_t>(n);
}

CatalogService::CatalogService(MetadataStore& store, BlobStore& blobs, SearchIndex& index,
                               const Clock& clock, CatalogServiceOptions options)
    : store_(store), blobs_(blobs), index_(index), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<CatalogQuery> CatalogService::ParseRequest(std::string_view viewer,
                                                          const CatalogSearchRequest& r) const {
  CatalogQuery q;
  q.viewer = std::string(viewer);
  if (r.q.size() > 512) return Invalid("q is longer than 512 characters");
  q.text = r.q;
  if (r.type == "model" || r.type == "model-package") {
    q.kind = "model-package";
  } else if (r.type == "algorithm") {
    q.kind = "algorithm";
  } else if (!r.type.empty()) {
    return Invalid(fmt::format("type must be model or algorithm, got \"{}\"", r.type));
  }
  q.category = r.category;
  if (r.pricing == "free") {
    q.free = true;
  } else if (r.pricing == "paid") {
    q.free = false;
  } else if (!r.pricing.empty()) {
    return Invalid(fmt::format("pricing must be free or paid, got \"{}\"", r.pricing));
  }
  if (r.free_trial == "true" || r.free_trial == "1") {
    q.free_trial = true;
  } else if (!r.free_trial.empty() && r.free_trial != "false" && r.free_trial != "0") {
    return Invalid("free_trial must be true or false");
  }
  q.instance_type = r.instance_type;
  if (r.sort.empty() || r.sort == "relevance") {
    q.sort = CatalogSort::kRelevance;
  } else if (r.sort == "rating") {
    q.sort = CatalogSort::kRating;
  } else if (r.sort == "newest") {
    q.sort = CatalogSort::kNewest;
  } else {
    return Invalid(fmt::format("sort must be relevance, rating or newest, got \"{}\"", r.sort));
  }
  q.limit = 20;
  if (!r.max_results.empty()) {
    char* end = nullptr;
    long long n = std::strtoll(r.max_results.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > static_cast<long long>(options_.max_results)) {
      return Invalid(fmt::format("max_results must be from 1 to {}", options_.max_results));
    }
    q.limit = static_cast<size_t>(n);
  }
  if (!r.next_token.empty()) {
    ASSIGN_OR_RETURN(q.offset, DecodePageToken(r.next_token));
  }
  return q;
}

absl::StatusOr<Json> CatalogService::Search(std::string_view viewer,
                                            const CatalogSearchRequest& request) {
  ASSIGN_OR_RETURN(CatalogQuery q, ParseRequest(viewer, request));
  size_t page = q.limit;
  q.limit = page + 1;  // one more tells whether there is a next page
  ASSIGN_OR_RETURN(std::vector<std::string> ids, index_.Search(q));
  bool more = ids.size() > page;
  if (more) ids.resize(page);
  ASSIGN_OR_RETURN(std::vector<Product> products, LoadProducts(store_, ids));
  Json out = {{"Products", Json::array()}};
  for (const Product& p : products) out["Products"].push_back(SummaryJson(p));
  if (more) out["NextToken"] = EncodePageToken(q.offset + page);
  return out;
}

absl::StatusOr<Product> CatalogService::Visible(std::string_view viewer,
                                                std::string_view id_or_code) {
  auto p = LoadProduct(store_, id_or_code);
  if (!p.ok()) return NoSuchProduct(id_or_code);
  if (CanBrowse(*p, viewer)) return p;
  if (!viewer.empty() && options_.is_subscriber && options_.is_subscriber(viewer, p->id)) {
    return p;
  }
  return NoSuchProduct(id_or_code);
}

absl::StatusOr<Json> CatalogService::Detail(std::string_view viewer, std::string_view id_or_code,
                                            std::string_view ref) {
  if (!ValidRef(ref)) return Invalid("ref must be at most 64 of A-Z a-z 0-9 . _ -");
  ASSIGN_OR_RETURN(Product p, Visible(viewer, id_or_code));
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(store_, p.id));
  if (viewer != p.seller_account) {
    std::erase_if(versions, [](const ProductVersion& v) { return v.restricted; });
  }
  Json out = BuyerProductJson(p, versions, options_.console_base);
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT id, product_id, author_account, rating, title, body, reply,"
                                " replied_at, created_at, updated_at FROM product_reviews WHERE"
                                " product_id = ? ORDER BY created_at DESC, id LIMIT 5",
                                {p.id}));
  out["RecentReviews"] = Json::array();
  for (const SqlRow& r : rows) {
    Review rv{r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4),
              r.Text(5), r.Text(6), r.Int(7),  r.Int(8), r.Int(9)};
    out["RecentReviews"].push_back(ReviewJson(rv));
  }
  if (!ref.empty()) {
    RETURN_IF_ERROR(store_
                        .Exec("INSERT INTO product_visits (id, product_id, ref_tag,"
                              " visitor_account, visited_at) VALUES (?, ?, ?, ?, ?)",
                              {NewId("visit-"), p.id, std::string(ref), std::string(viewer),
                               absl::ToUnixMicros(clock_.Now())})
                        .status());
  }
  return out;
}

absl::StatusOr<std::string> CatalogService::Notebook(std::string_view viewer,
                                                     std::string_view id_or_code) {
  ASSIGN_OR_RETURN(Product p, Visible(viewer, id_or_code));
  if (p.notebook_blob.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Product {} has no sample notebook.", id_or_code));
  }
  return GetBlob(blobs_, p.notebook_blob);
}

absl::StatusOr<std::pair<std::string, std::string>> CatalogService::Logo(
    std::string_view viewer, std::string_view id_or_code) {
  ASSIGN_OR_RETURN(Product p, Visible(viewer, id_or_code));
  if (p.logo_blob.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Product {} has no logo.", id_or_code));
  }
  ASSIGN_OR_RETURN(std::string data, GetBlob(blobs_, p.logo_blob));
  return std::make_pair(p.logo_type, std::move(data));
}

absl::StatusOr<Json> CatalogService::SampleData(std::string_view viewer,
                                                std::string_view id_or_code) {
  ASSIGN_OR_RETURN(Product p, Visible(viewer, id_or_code));
  if (!p.sample_data.contains("Key")) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Product {} has no sample data.", id_or_code));
  }
  return p.sample_data;
}

}  // namespace mercato::catalog
