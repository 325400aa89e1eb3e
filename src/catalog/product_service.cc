// ProductService: listings, offers and bulk seeding (versions, visibility and removal are in
// product_versions.cc).
#include "catalog/product_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/status.h"
#include "catalog/notebook.h"
#include "catalog/offer.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

std::string RandomAlnum(size_t n) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string bytes = RandomBytes(n);
  std::string out;
  for (char b : bytes) out.push_back(kAlphabet[static_cast<unsigned char>(b) % 36]);
  return out;
}

absl::StatusOr<std::string> Text(const Json& v, const std::string& field, size_t max_len) {
  if (!v.is_string()) return Invalid(fmt::format("{} must be a string", field));
  std::string s = v.get<std::string>();
  if (s.size() > max_len) {
    return Invalid(fmt::format("{} is longer than {} characters", field, max_len));
  }
  return s;
}

absl::StatusOr<std::vector<std::string>> TextList(const Json& v, const std::string& field,
                                                  size_t max_items, size_t max_len) {
  if (!v.is_array()) return Invalid(fmt::format("{} must be a list of strings", field));
  if (v.size() > max_items) return Invalid(fmt::format("{}: at most {} items", field, max_items));
  std::vector<std::string> out;
  for (const Json& item : v) {
    ASSIGN_OR_RETURN(std::string s, Text(item, field, max_len));
    if (s.empty()) return Invalid(fmt::format("{}: items must not be empty", field));
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

// The image type of a logo from its first bytes; "" when not PNG, JPEG or SVG.
std::string LogoType(std::string_view data) {
  if (data.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return "image/png";
  if (data.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  std::string head = absl::AsciiStrToLower(std::string(data.substr(0, 1024)));
  size_t start = head.find_first_not_of(" \t\r\n");
  if (start != std::string::npos &&
      (head.compare(start, 4, "<svg") == 0 ||
       (head.compare(start, 5, "<?xml") == 0 && head.find("<svg") != std::string::npos))) {
    return "image/svg+xml";
  }
  return "";
}

const std::set<std::string>& KnownFields() {
  static const std::set<std::string> kFields = {"Title",
                                                "ShortDescription",
                                                "LongDescription",
                                                "UsageInstructions",
                                                "DataPreprocessing",
                                                "Categories",
                                                "Highlights",
                                                "SupportContact",
                                                "Eula",
                                                "Logo",
                                                "SampleNotebook",
                                                "SampleData",
                                                "RecommendedInstanceTypes"};
  return kFields;
}

}  // namespace

std::string NewProductId() { return "prod-" + RandomAlnum(13); }
std::string NewProductCode() { return RandomAlnum(20); }

std::string EscrowName(std::string_view code, std::string_view version) {
  std::string v(version);
  std::replace(v.begin(), v.end(), '.', '-');
  return fmt::format("{}-v{}", code, v);
}

ProductService::ProductService(MetadataStore& store, BlobStore& blobs, SearchIndex& index,
                               const Clock& clock, ProductServiceOptions options)
    : store_(store), blobs_(blobs), index_(index), clock_(clock), options_(std::move(options)) {}

int64_t ProductService::NowMicros() const { return absl::ToUnixMicros(clock_.Now()); }

absl::Status ProductService::ApplyFields(Product& p, const Json& fields) {
  if (!fields.is_object()) return Invalid("the product fields must be a JSON object");
  for (const auto& [key, _] : fields.items()) {
    if (!KnownFields().count(key)) return Invalid(fmt::format("unknown product field {}", key));
  }
  auto text = [&](const char* name, std::string& dst, size_t max) -> absl::Status {
    if (!fields.contains(name)) return absl::OkStatus();
    ASSIGN_OR_RETURN(dst, Text(fields[name], name, max));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(text("Title", p.title, 200));
  RETURN_IF_ERROR(text("ShortDescription", p.short_description, 500));
  RETURN_IF_ERROR(text("LongDescription", p.long_description, 100'000));
  RETURN_IF_ERROR(text("UsageInstructions", p.usage_instructions, 100'000));
  RETURN_IF_ERROR(text("DataPreprocessing", p.preprocessing, 50'000));
  RETURN_IF_ERROR(text("SupportContact", p.support_contact, 500));
  RETURN_IF_ERROR(text("Eula", p.eula, 500'000));
  if (p.title.empty()) return Invalid("Title is required");
  if (p.short_description.empty()) return Invalid("ShortDescription is required");
  if (fields.contains("Categories")) {
    ASSIGN_OR_RETURN(p.categories, TextList(fields["Categories"], "Categories", 10, 50));
  }
  if (fields.contains("Highlights")) {
    ASSIGN_OR_RETURN(p.highlights, TextList(fields["Highlights"], "Highlights", 10, 300));
  }
  if (fields.contains("RecommendedInstanceTypes")) {
    ASSIGN_OR_RETURN(p.instance_types, TextList(fields["RecommendedInstanceTypes"],
                                                "RecommendedInstanceTypes", 50, 64));
    for (const std::string& t : p.instance_types) {
      if (auto found = options_.instance_types.Find(t); !found.ok()) {
        return Invalid(
            fmt::format("RecommendedInstanceTypes: {}", std::string(found.status().message())));
      }
    }
  }
  if (fields.contains("Logo")) {
    ASSIGN_OR_RETURN(std::string b64, Text(fields["Logo"], "Logo", 4 * options_.max_logo_bytes));
    if (b64.empty()) {
      p.logo_blob.clear();
      p.logo_type.clear();
    } else {
      auto data = Base64Decode(b64);
      auto bad = [](std::string why) {
        return AwsError(absl::StatusCode::kInvalidArgument, "InvalidLogo", why);
      };
      if (!data.ok()) return bad("Logo must be base64");
      if (data->size() > options_.max_logo_bytes) {
        return bad(fmt::format("Logo is larger than {} bytes", options_.max_logo_bytes));
      }
      std::string type = LogoType(*data);
      if (type.empty()) return bad("Logo must be a PNG, JPEG or SVG image");
      ASSIGN_OR_RETURN(BlobInfo blob, PutBlob(blobs_, *data));
      p.logo_blob = blob.id;
      p.logo_type = type;
    }
  }
  if (fields.contains("SampleNotebook")) {
    const Json& nb = fields["SampleNotebook"];
    std::string text = nb.is_string() ? nb.get<std::string>() : nb.dump();
    if (nb.is_string() && text.empty()) {
      p.notebook_blob.clear();
    } else {
      if (text.size() > options_.max_notebook_bytes) {
        return AwsError(absl::StatusCode::kInvalidArgument, "InvalidNotebook",
                        fmt::format("the sample notebook is larger than {} bytes",
                                    options_.max_notebook_bytes));
      }
      RETURN_IF_ERROR(ValidateNotebook(text));
      ASSIGN_OR_RETURN(BlobInfo blob, PutBlob(blobs_, text));
      p.notebook_blob = blob.id;
    }
  }
  if (fields.contains("SampleData")) {
    ASSIGN_OR_RETURN(std::string uri, Text(fields["SampleData"], "SampleData", 2048));
    if (uri.empty()) {
      p.sample_data = Json::object();
    } else {
      if (uri.rfind("s3://", 0) != 0 || uri.find('/', 5) == std::string::npos ||
          uri.back() == '/') {
        return Invalid("SampleData must be s3://BUCKET/KEY of one object");
      }
      if (!options_.copy_sample_data) {
        return absl::UnavailableError("sample data copies are not available");
      }
      std::string base = uri.substr(uri.rfind('/') + 1);
      ASSIGN_OR_RETURN(Json copied,
                       options_.copy_sample_data(p.seller_account, uri,
                                                 fmt::format("{}/sample-data/{}", p.id, base)));
      copied["Source"] = uri;
      p.sample_data = std::move(copied);
    }
  }
  return absl::OkStatus();
}

absl::Status ProductService::Reindex(Transaction& tx, const Product& p,
                                     const std::vector<ProductVersion>& versions) {
  SqlParams id = {p.id};
  RETURN_IF_ERROR(tx.Exec("DELETE FROM product_categories WHERE product_id = ?", id).status());
  RETURN_IF_ERROR(tx.Exec("DELETE FROM product_instance_types WHERE product_id = ?", id).status());
  RETURN_IF_ERROR(tx.Exec("DELETE FROM product_access WHERE product_id = ?", id).status());
  std::set<std::string> cats;
  for (const std::string& c : p.categories) cats.insert(absl::AsciiStrToLower(c));
  for (const std::string& c : cats) {
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO product_categories (product_id, category) VALUES (?, ?)", {p.id, c})
            .status());
  }
  // Supported instance types: the recommended ones and every type a version's spec names.
  std::set<std::string> types(p.instance_types.begin(), p.instance_types.end());
  for (const ProductVersion& v : versions) {
    if (v.restricted) continue;
    for (const char* spec : {"InferenceSpecification", "TrainingSpecification"}) {
      const Json s = v.spec.value(spec, Json::object());
      if (!s.is_object()) continue;
      for (const char* list :
           {"SupportedRealtimeInferenceInstanceTypes", "SupportedTransformInstanceTypes",
            "SupportedTrainingInstanceTypes"}) {
        for (const Json& t : s.value(list, Json::array())) {
          if (t.is_string()) types.insert(t.get<std::string>());
        }
      }
    }
  }
  for (const std::string& t : types) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO product_instance_types (product_id, instance_type)"
                            " VALUES (?, ?)",
                            {p.id, t})
                        .status());
  }
  std::set<std::string> access(p.allow_list.begin(), p.allow_list.end());
  access.insert(p.test_accounts.begin(), p.test_accounts.end());
  for (const std::string& a : access) {
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO product_access (product_id, account_id) VALUES (?, ?)", {p.id, a})
            .status());
  }
  return index_.Put(tx, p);
}

absl::StatusOr<Product> ProductService::Create(std::string_view seller, const Json& fields) {
  if (!options_.require_seller) {
    return absl::UnavailableError("seller registration is not available");
  }
  if (absl::Status s = options_.require_seller(seller); !s.ok()) {
    return AwsError(absl::StatusCode::kPermissionDenied, "SellerNotRegistered",
                    std::string(s.message()));
  }
  Product p;
  p.id = NewProductId();
  p.code = NewProductCode();
  p.seller_account = std::string(seller);
  p.created_at = p.updated_at = NowMicros();
  RETURN_IF_ERROR(ApplyFields(p, fields));
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  RETURN_IF_ERROR(SaveProduct(*tx, p));
  RETURN_IF_ERROR(Reindex(*tx, p, {}));
  RETURN_IF_ERROR(tx->Commit());
  return p;
}

absl::StatusOr<Product> ProductService::OwnedForUpdate(Transaction& tx, std::string_view seller,
                                                       std::string_view id) {
  auto p = LoadProduct(tx, id);
  if (!p.ok() || p->seller_account != seller) return NoSuchProduct(id);
  if (p->visibility == kRestricted) {
    return AwsError(absl::StatusCode::kFailedPrecondition, "InvalidState",
                    fmt::format("Product {} was removed (Restricted) and cannot change.", p->id));
  }
  return p;
}

absl::StatusOr<Product> ProductService::Update(std::string_view seller, std::string_view id,
                                               const Json& fields) {
  // Validate (and copy blobs / sample data) before the write transaction: those may be slow.
  ASSIGN_OR_RETURN(Product before, Get(seller, id));
  Product edited = before;
  Json merged = fields;
  if (merged.is_object()) {
    if (!merged.contains("Title")) merged["Title"] = before.title;
    if (!merged.contains("ShortDescription")) merged["ShortDescription"] = before.short_description;
  }
  RETURN_IF_ERROR(ApplyFields(edited, merged));
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Product p, OwnedForUpdate(*tx, seller, id));
  // Keep what changed concurrently outside the listing fields (visibility, ratings, ...).
  Product out = p;
  out.title = edited.title;
  out.short_description = edited.short_description;
  out.long_description = edited.long_description;
  out.usage_instructions = edited.usage_instructions;
  out.preprocessing = edited.preprocessing;
  out.categories = edited.categories;
  out.highlights = edited.highlights;
  out.support_contact = edited.support_contact;
  out.eula = edited.eula;
  out.logo_blob = edited.logo_blob;
  out.logo_type = edited.logo_type;
  out.notebook_blob = edited.notebook_blob;
  out.sample_data = edited.sample_data;
  out.instance_types = edited.instance_types;
  out.updated_at = NowMicros();
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(*tx, out.id));
  RETURN_IF_ERROR(SaveProduct(*tx, out));
  RETURN_IF_ERROR(Reindex(*tx, out, versions));
  RETURN_IF_ERROR(tx->Commit());
  return out;
}

absl::StatusOr<Product> ProductService::Get(std::string_view seller, std::string_view id) {
  auto p = LoadProduct(store_, id);
  if (!p.ok() || p->seller_account != seller) return NoSuchProduct(id);
  return p;
}

absl::StatusOr<Json> ProductService::Describe(std::string_view seller, std::string_view id) {
  ASSIGN_OR_RETURN(Product p, Get(seller, id));
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(store_, p.id));
  return SellerProductJson(p, versions, options_.console_base);
}

absl::StatusOr<std::vector<Product>> ProductService::List(std::string_view seller) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT id FROM products WHERE seller_account = ?"
                                              " ORDER BY created_at, id",
                                              {std::string(seller)}));
  std::vector<std::string> ids;
  for (const SqlRow& r : rows) ids.push_back(r.Text(0));
  return LoadProducts(store_, ids);
}

absl::StatusOr<Product> ProductService::SetOffer(std::string_view seller, std::string_view id,
                                                 const Json& input) {
  ASSIGN_OR_RETURN(Offer offer, ParseOffer(input, options_.instance_types));
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Product p, OwnedForUpdate(*tx, seller, id));
  p.offer = offer.json;
  p.is_free = offer.is_free;
  p.free_trial_days = offer.free_trial_days;
  p.test_accounts = offer.test_accounts;
  p.updated_at = NowMicros();
  ASSIGN_OR_RETURN(std::vector<ProductVersion> versions, LoadVersions(*tx, p.id));
  RETURN_IF_ERROR(SaveProduct(*tx, p));
  RETURN_IF_ERROR(Reindex(*tx, p, versions));
  RETURN_IF_ERROR(tx->Commit());
  if (options_.on_offer_changed) options_.on_offer_changed(p.id);
  return p;
}

absl::StatusOr<Product> ProductService::Find(std::string_view id_or_code) {
  return LoadProduct(store_, id_or_code);
}

absl::StatusOr<std::vector<std::string>> ProductService::BulkLoad(const Json& items) {
  if (!items.is_array()) return Invalid("Products must be a list");
  std::vector<Product> products;
  int64_t now = NowMicros();
  for (const Json& item : items) {
    if (!item.is_object()) return Invalid("each product must be an object");
    Json fields = item;
    Product p;
    p.id = NewProductId();
    p.code = NewProductCode();
    p.seller_account = fields.value("Seller", "");
    p.kind = fields.value("ProductType", "model-package");
    if (!IsAccountId(p.seller_account)) return Invalid("Seller must be a 12-digit account id");
    if (p.kind != "model-package" && p.kind != "algorithm") {
      return Invalid("ProductType is model-package or algorithm");
    }
    Json offer = fields.value("Offer", Json::object());
    for (const char* k : {"Seller", "ProductType", "Offer"}) fields.erase(k);
    if (fields.contains("SampleData")) return Invalid("bulk products take no SampleData");
    RETURN_IF_ERROR(ApplyFields(p, fields));
    ASSIGN_OR_RETURN(Offer o, ParseOffer(offer, options_.instance_types));
    p.offer = o.json;
    p.is_free = o.is_free;
    p.free_trial_days = o.free_trial_days;
    p.test_accounts = o.test_accounts;
    p.visibility = std::string(kPublic);
    p.created_at = p.updated_at = p.published_at = now++;
    products.push_back(std::move(p));
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  std::vector<std::string> ids;
  for (const Product& p : products) {
    RETURN_IF_ERROR(SaveProduct(*tx, p));
    RETURN_IF_ERROR(Reindex(*tx, p, {}));
    ids.push_back(p.id);
  }
  RETURN_IF_ERROR(tx->Commit());
  return ids;
}

}  // namespace mercato::catalog
