// SearchIndex: full-text relevance search over the catalog, with the buyer's filters,
// sorting and paging, behind an interface because full-text search is not part of the
// portable SQL subset (store/metadata_store.h). The SQLite backend uses FTS5
// (search_index_fts5.h); a PostgreSQL backend would use tsvector the same way.
//
// Documents are written inside the caller's transaction (Put), so the index never lags the
// products table. Category, instance-type and Limited-access filters read the portable
// tables of migration 9 (product_categories, product_instance_types, product_access).
// Search() returns product ids in a total order (ties broken by id) so that offset paging is
// exact: no duplicate, no gap; the set of results is always exactly the matching products.
// Thread-safety: implementations are thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/product_types.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

enum class CatalogSort { kRelevance, kRating, kNewest };

struct CatalogQuery {
  std::string text;           // free text; "" lists everything (relevance → newest)
  std::string kind;           // "" | "model-package" | "algorithm"
  std::string category;       // "" or a category (case-insensitive)
  std::optional<bool> free;   // pricing=free|paid
  bool free_trial = false;    // only products with a free trial
  std::string instance_type;  // "" or a supported instance type
  CatalogSort sort = CatalogSort::kRelevance;
  std::string viewer;  // sees Public, plus Limited it is allowed on (and its own)
  size_t offset = 0;
  size_t limit = 20;
};

class SearchIndex {
 public:
  virtual ~SearchIndex() = default;
  // Inserts or replaces the product's document: its text (title, descriptions, usage,
  // categories) and what filters and sorts read (visibility, kind, pricing, trial,
  // published_at, rating). Call it in every transaction that changes one of those.
  virtual absl::Status Put(Transaction& tx, const Product& p) = 0;
  virtual absl::Status Remove(Transaction& tx, std::string_view product_id) = 0;
  // Up to q.limit product ids from q.offset in the query's order.
  virtual absl::StatusOr<std::vector<std::string>> Search(const CatalogQuery& q) = 0;
  // Compacts the index after many writes (a bulk import); may hold the write lock for a
  // while. A no-op where there is nothing to compact.
  virtual absl::Status Optimize() { return absl::OkStatus(); }
};
using SearchIndexPtr = std::unique_ptr<SearchIndex>;

// The words of free text as FTS terms (letters and digits; everything else separates), at
// most 16. Exposed for tests.
std::vector<std::string> SearchTerms(std::string_view text);

}  // namespace mercato::catalog
