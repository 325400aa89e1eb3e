// The SQLite FTS5 SearchIndex. FTS5 is not portable SQL, so Create() makes its own tables
// with CREATE ... IF NOT EXISTS through MetadataStore::Exec instead of the shared migrations:
//   product_fts     FTS5 (porter stemming over unicode61 tokens) of title, short description,
//                   long description + usage, categories; rowid = product_search.doc
//   product_search  one row per product: doc (INTEGER PRIMARY KEY), product_id, and copies
//                   of what filters and sorts read (visibility, seller, kind, is_free, trial,
//                   published_at, rating key and count), indexed for the newest and rating
//                   orders, so a query never reads the products table or the FTS content.
//
// Ranking. Relevance is bm25 (title weighted highest) over every match, computed exactly
// when the query's matches are at most `exact_limit` products (a distinctive word). A query
// made only of words found in more products than that (say "model") says little about
// relevance, and ranking all of its matches would cost ~1 µs per match per query, so its
// matches come in rating order (then newest) instead, found by walking the rating index and
// probing the FTS index per product; the result set stays exact, only its order differs.
// Thread-safe; borrows the store, which must be a SqliteStore.
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "catalog/search_index.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

class Fts5SearchIndex final : public SearchIndex {
 public:
  // FailedPrecondition when the SQLite library lacks FTS5.
  static absl::StatusOr<SearchIndexPtr> Create(MetadataStore& store, size_t exact_limit = 5000);

  absl::Status Put(Transaction& tx, const Product& p) override;
  absl::Status Remove(Transaction& tx, std::string_view product_id) override;
  absl::StatusOr<std::vector<std::string>> Search(const CatalogQuery& q) override;

  // Whether `q` would be ranked exactly by bm25 (tests).
  absl::StatusOr<bool> RanksExactly(const CatalogQuery& q);

 private:
  Fts5SearchIndex(MetadataStore& store, size_t exact_limit)
      : store_(store), exact_limit_(exact_limit) {}
  // True when at most exact_limit_ rows of `table` have `column` = value.
  absl::StatusOr<bool> Small(std::string_view table, std::string_view column,
                             const std::string& value);
  MetadataStore& store_;
  size_t exact_limit_;
};

// The FTS5 MATCH expression of free text: its terms quoted and ANDed; "" when none.
std::string MatchExpression(std::string_view text);

}  // namespace mercato::catalog
