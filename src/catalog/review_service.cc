#include "catalog/review_service.h"

#include <cstdlib>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

constexpr std::string_view kColumns =
    "id, product_id, author_account, rating, title, body, reply, replied_at, created_at,"
    " updated_at";

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

Review FromRow(const SqlRow& r) {
  return Review{r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4),
                r.Text(5), r.Text(6), r.Int(7),  r.Int(8), r.Int(9)};
}

// Applies Rating/Title/Body from `body` to `r`; `require_rating` for a new review.
absl::Status ApplyReview(Review& r, const Json& body, bool require_rating) {
  if (!body.is_object()) return Invalid("the review must be a JSON object");
  for (const auto& [k, _] : body.items()) {
    if (k != "Rating" && k != "Title" && k != "Body") {
      return Invalid(fmt::format("unknown review field {} (expected Rating, Title, Body)", k));
    }
  }
  if (body.contains("Rating")) {
    const Json& v = body["Rating"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 5) {
      return Invalid("Rating must be an integer from 1 to 5 stars");
    }
    r.rating = v.get<int64_t>();
  } else if (require_rating) {
    return Invalid("Rating (1 to 5 stars) is required");
  }
  for (auto [name, dst, max] :
       {std::tuple{"Title", &r.title, size_t{200}}, std::tuple{"Body", &r.body, size_t{10'000}}}) {
    if (!body.contains(name)) continue;
    if (!body[name].is_string()) return Invalid(fmt::format("{} must be a string", name));
    *dst = body[name].get<std::string>();
    if (dst->size() > max) return Invalid(fmt::format("{} is longer than {}", name, max));
  }
  return absl::OkStatus();
}

// Changes the product's exact rating and tells the search index (rating sort).
absl::Status AdjustRating(Transaction& tx, SearchIndex& index, const std::string& product_id,
                          int64_t sum_delta, int64_t count_delta) {
  RETURN_IF_ERROR(
      tx.Exec("UPDATE products SET rating_sum = rating_sum + ?, rating_count = rating_count + ?"
              " WHERE id = ?",
              {sum_delta, count_delta, product_id})
          .status());
  ASSIGN_OR_RETURN(Product p, LoadProduct(tx, product_id));
  return index.Put(tx, p);
}

}  // namespace

ReviewService::ReviewService(MetadataStore& store, CatalogService& catalog, SearchIndex& index,
                             const Clock& clock, ReviewServiceOptions options)
    : store_(store),
      catalog_(catalog),
      index_(index),
      clock_(clock),
      options_(std::move(options)) {}

absl::StatusOr<Review> ReviewService::Load(Transaction& tx, std::string_view product_id,
                                           std::string_view review_id) {
  ASSIGN_OR_RETURN(SqlRows rows, tx.Query(fmt::format("SELECT {} FROM product_reviews WHERE id = ?"
                                                      " AND product_id = ?",
                                                      kColumns),
                                          {std::string(review_id), std::string(product_id)}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                    fmt::format("Review {} does not exist.", review_id));
  }
  return FromRow(rows[0]);
}

absl::StatusOr<Review> ReviewService::Add(std::string_view author, std::string_view product,
                                          const Json& body) {
  if (!options_.is_subscriber) return absl::UnavailableError("subscriptions are not available");
  ASSIGN_OR_RETURN(Product p, catalog_.Visible(author, product));
  if (author == p.seller_account) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                    "Sellers cannot review their own products.");
  }
  if (!options_.is_subscriber(author, p.id)) {
    return AwsError(absl::StatusCode::kPermissionDenied, "NotSubscribed",
                    fmt::format("Only subscribers of product {} can review it.", p.code));
  }
  Review r;
  RETURN_IF_ERROR(ApplyReview(r, body, true));
  r.id = NewId("rev-");
  r.product_id = p.id;
  r.author_account = std::string(author);
  r.created_at = r.updated_at = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  absl::Status ins =
      tx->Exec(fmt::format("INSERT INTO product_reviews ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           kColumns),
               {r.id, r.product_id, r.author_account, r.rating, r.title, r.body, r.reply,
                r.replied_at, r.created_at, r.updated_at})
          .status();
  if (absl::IsAlreadyExists(ins)) {
    return AwsError(
        absl::StatusCode::kAlreadyExists, "ReviewExists",
        fmt::format("You already reviewed product {}; edit that review instead.", p.code));
  }
  RETURN_IF_ERROR(ins);
  RETURN_IF_ERROR(AdjustRating(*tx, index_, p.id, r.rating, 1));
  RETURN_IF_ERROR(tx->Commit());
  return r;
}

absl::StatusOr<Review> ReviewService::Edit(std::string_view author, std::string_view product,
                                           std::string_view review_id, const Json& body) {
  ASSIGN_OR_RETURN(Product p, catalog_.Visible(author, product));
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Review r, Load(*tx, p.id, review_id));
  if (r.author_account != author) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                    "Only its author can edit a review.");
  }
  int64_t old_rating = r.rating;
  RETURN_IF_ERROR(ApplyReview(r, body, false));
  r.updated_at = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(tx->Exec("UPDATE product_reviews SET rating = ?, title = ?, body = ?,"
                           " updated_at = ? WHERE id = ?",
                           {r.rating, r.title, r.body, r.updated_at, r.id})
                      .status());
  RETURN_IF_ERROR(AdjustRating(*tx, index_, p.id, r.rating - old_rating, 0));
  RETURN_IF_ERROR(tx->Commit());
  return r;
}

absl::Status ReviewService::Delete(std::string_view author, std::string_view product,
                                   std::string_view review_id) {
  ASSIGN_OR_RETURN(Product p, catalog_.Visible(author, product));
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Review r, Load(*tx, p.id, review_id));
  if (r.author_account != author) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                    "Only its author can delete a review.");
  }
  RETURN_IF_ERROR(tx->Exec("DELETE FROM product_reviews WHERE id = ?", {r.id}).status());
  RETURN_IF_ERROR(AdjustRating(*tx, index_, p.id, -r.rating, -1));
  return tx->Commit();
}

absl::StatusOr<Review> ReviewService::Reply(std::string_view seller, std::string_view product,
                                            std::string_view review_id, std::string_view text) {
  if (text.empty() || text.size() > 10'000) return Invalid("a reply is 1 to 10000 characters");
  ASSIGN_OR_RETURN(Product p, catalog_.Visible(seller, product));
  if (p.seller_account != seller) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                    "Only the product's seller can reply to its reviews.");
  }
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(Review r, Load(*tx, p.id, review_id));
  if (!r.reply.empty()) {
    return AwsError(absl::StatusCode::kAlreadyExists, "ReplyExists",
                    fmt::format("Review {} already has the seller's reply.", r.id));
  }
  r.reply = std::string(text);
  r.replied_at = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(tx->Exec("UPDATE product_reviews SET reply = ?, replied_at = ? WHERE id = ?",
                           {r.reply, r.replied_at, r.id})
                      .status());
  RETURN_IF_ERROR(tx->Commit());
  return r;
}

absl::StatusOr<Json> ReviewService::List(std::string_view viewer, std::string_view product,
                                         std::string_view max_results,
                                         std::string_view next_token) {
  ASSIGN_OR_RETURN(Product p, catalog_.Visible(viewer, product));
  int64_t limit = 20;
  if (!max_results.empty()) {
    std::string s(max_results);
    char* end = nullptr;
    limit = std::strtoll(s.c_str(), &end, 10);
    if (*end != '\0' || limit < 1 || limit > 100) return Invalid("max_results must be 1 to 100");
  }
  size_t offset = 0;
  if (!next_token.empty()) {
    ASSIGN_OR_RETURN(offset, DecodePageToken(next_token));
  }
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(fmt::format("SELECT {} FROM product_reviews WHERE product_id = ?"
                                            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                                            kColumns),
                                {p.id, limit + 1, static_cast<int64_t>(offset)}));
  Json out = {{"Reviews", Json::array()}};
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i) {
    out["Reviews"].push_back(ReviewJson(FromRow(rows[i])));
  }
  if (rows.size() > static_cast<size_t>(limit)) out["NextToken"] = EncodePageToken(offset + limit);
  out["Rating"] = SummaryJson(p)["Rating"];
  return out;
}

}  // namespace mercato::catalog
