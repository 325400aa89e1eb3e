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
// matches come in rating order (then newest) instead; the result set stays exact, only its
// order differs. That order is found by whichever plan a cost model (measured constants)
// says is cheaper: joining all matches to their attributes and sorting (~1 µs a match), or
// walking the rating index and probing the FTS index per product (30-120 µs a probe,
// ~products / matches probes per result). See bench/README.md, "Catalog search".
// Thread-safe; borrows the store, which must be a SqliteStore.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "catalog/search_index.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

class Fts5SearchIndex final : public SearchIndex {
 public:
  // FailedPrecondition when the SQLite library lacks FTS5.
  // `max_join` caps the broad queries' join-and-sort plan (tests set 0 to force the walk).
  static absl::StatusOr<SearchIndexPtr> Create(MetadataStore& store, size_t exact_limit = 5000,
                                               size_t max_join = SIZE_MAX);

  absl::Status Put(Transaction& tx, const Product& p) override;
  absl::Status Remove(Transaction& tx, std::string_view product_id) override;
  absl::StatusOr<std::vector<std::string>> Search(const CatalogQuery& q) override;

  // Merges the FTS index into one segment. Bulk loads leave ~10 segments (one per
  // transaction, partly merged), and every FTS lookup seeks each of them: at 100,000 products
  // a per-product probe costs 50-120 µs before and 8-15 µs after (p99 of the catalog
  // benchmark 30 -> 14 ms in a replay). Takes ~0.7 s at 100,000 products and holds the write
  // lock meanwhile: call it after bulk loads or when the catalog is idle, not per write.
  absl::Status Optimize() override;

  // Whether `q` would be ranked exactly by bm25 (tests).
  absl::StatusOr<bool> RanksExactly(const CatalogQuery& q);

 private:
  Fts5SearchIndex(MetadataStore& store, size_t exact_limit, size_t max_join)
      : store_(store), exact_limit_(exact_limit), max_join_(max_join) {}
  // True when at most exact_limit_ rows of `table` have `column` = value.
  absl::StatusOr<bool> Small(std::string_view table, std::string_view column,
                             const std::string& value);
  MetadataStore& store_;
  size_t exact_limit_;
  size_t max_join_;
};

// The FTS5 MATCH expression of free text: its distinct terms quoted and ANDed; "" when none.
std::string MatchExpression(std::string_view text);

}  // namespace mercato::catalog
