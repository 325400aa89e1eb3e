#include "catalog/search_index_fts5.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "absl/strings/ascii.h"
#include "base/crypto.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

constexpr std::string_view kSchema[] = {
    "CREATE TABLE IF NOT EXISTS product_search ("
    " doc INTEGER PRIMARY KEY, product_id TEXT NOT NULL UNIQUE, seller_account TEXT NOT NULL,"
    " visibility TEXT NOT NULL, kind TEXT NOT NULL, is_free INTEGER NOT NULL,"
    " free_trial_days INTEGER NOT NULL, published_at INTEGER NOT NULL,"
    " rating_key INTEGER NOT NULL, rating_count INTEGER NOT NULL, text_hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS product_search_newest ON product_search"
    " (published_at DESC, product_id)",
    "CREATE INDEX IF NOT EXISTS product_search_rating ON product_search"
    " (rating_key DESC, rating_count DESC, published_at DESC, product_id)",
};

// Average rating scaled to an integer, so that the rating order is an index order.
int64_t RatingKey(const Product& p) {
  return p.rating_count == 0 ? 0 : p.rating_sum * 1'000'000'000 / p.rating_count;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += s + " ";
  return out;
}

}  // namespace

std::vector<std::string> SearchTerms(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && out.size() < 16) out.push_back(cur);
    cur.clear();
  };
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    // Bytes >= 0x80 are parts of UTF-8 letters: unicode61 keeps them inside tokens.
    if (std::isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string MatchExpression(std::string_view text) {
  // Each term quoted, so no FTS5 syntax gets through; juxtaposition is AND.
  // A repeated word adds nothing to an AND but would be intersected and scored twice.
  std::string match;
  std::vector<std::string> seen;
  for (const std::string& t : SearchTerms(text)) {
    if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
    seen.push_back(t);
    match += fmt::format("{}\"{}\"", match.empty() ? "" : " ", t);
  }
  return match;
}

absl::StatusOr<SearchIndexPtr> Fts5SearchIndex::Create(MetadataStore& store, size_t exact_limit,
                                                       size_t max_join) {
  absl::StatusOr<int64_t> made = store.Exec(
      "CREATE VIRTUAL TABLE IF NOT EXISTS product_fts USING fts5(title, short_description,"
      " long_description, categories, tokenize = 'porter unicode61')");
  if (!made.ok()) {
    return absl::FailedPreconditionError(fmt::format("catalog search needs SQLite with FTS5: {}",
                                                     std::string(made.status().message())));
  }
  for (std::string_view sql : kSchema) RETURN_IF_ERROR(store.Exec(sql).status());
  return SearchIndexPtr(new Fts5SearchIndex(store, exact_limit, max_join));
}

absl::Status Fts5SearchIndex::Put(Transaction& tx, const Product& p) {
  std::string long_text = p.long_description + "\n" + p.usage_instructions;
  std::string cats = Joined(p.categories);
  std::string hash =
      Sha256Hex(fmt::format("{}\x1f{}\x1f{}\x1f{}", p.title, p.short_description, long_text, cats));
  SqlParams attrs = {p.seller_account,
                     p.visibility,
                     p.kind,
                     int64_t{p.is_free ? 1 : 0},
                     p.free_trial_days,
                     p.published_at,
                     RatingKey(p),
                     p.rating_count,
                     hash};
  ASSIGN_OR_RETURN(SqlRows rows, tx.Query("SELECT doc, text_hash FROM product_search WHERE"
                                          " product_id = ?",
                                          {p.id}));
  int64_t doc = 0;
  if (rows.empty()) {
    SqlParams params = {p.id};
    params.insert(params.end(), attrs.begin(), attrs.end());
    RETURN_IF_ERROR(tx.Exec("INSERT INTO product_search (product_id, seller_account, visibility,"
                            " kind, is_free, free_trial_days, published_at, rating_key,"
                            " rating_count, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            params)
                        .status());
    ASSIGN_OR_RETURN(SqlRows last, tx.Query("SELECT last_insert_rowid()"));
    doc = last[0].Int(0);
  } else {
    doc = rows[0].Int(0);
    SqlParams params = attrs;
    params.push_back(doc);
    RETURN_IF_ERROR(tx.Exec("UPDATE product_search SET seller_account = ?, visibility = ?,"
                            " kind = ?, is_free = ?, free_trial_days = ?, published_at = ?,"
                            " rating_key = ?, rating_count = ?, text_hash = ? WHERE doc = ?",
                            params)
                        .status());
    if (rows[0].Text(1) == hash) return absl::OkStatus();  // text unchanged
    RETURN_IF_ERROR(tx.Exec("DELETE FROM product_fts WHERE rowid = ?", {doc}).status());
  }
  return tx
      .Exec(
          "INSERT INTO product_fts (rowid, title, short_description, long_description,"
          " categories) VALUES (?, ?, ?, ?, ?)",
          {doc, p.title, p.short_description, long_text, cats})
      .status();
}

absl::Status Fts5SearchIndex::Remove(Transaction& tx, std::string_view product_id) {
  std::string id(product_id);
  RETURN_IF_ERROR(tx.Exec("DELETE FROM product_fts WHERE rowid IN (SELECT doc FROM"
                          " product_search WHERE product_id = ?)",
                          {id})
                      .status());
  return tx.Exec("DELETE FROM product_search WHERE product_id = ?", {id}).status();
}

absl::Status Fts5SearchIndex::Optimize() {
  return store_.Exec("INSERT INTO product_fts (product_fts) VALUES ('optimize')").status();
}

absl::StatusOr<bool> Fts5SearchIndex::RanksExactly(const CatalogQuery& q) {
  std::string match = MatchExpression(q.text);
  if (match.empty()) return false;
  // Counting stops at exact_limit + 1 matches: iterating a doclist costs ~40 ns a row.
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT rowid FROM product_fts WHERE product_fts"
                                              " MATCH ? LIMIT 1 OFFSET ?",
                                              {match, static_cast<int64_t>(exact_limit_)}));
  return rows.empty();
}

absl::StatusOr<bool> Fts5SearchIndex::Small(std::string_view table, std::string_view column,
                                            const std::string& value) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(fmt::format("SELECT 1 FROM {} WHERE {} = ? LIMIT 1"
                                                          " OFFSET ?",
                                                          table, column),
                                              {value, static_cast<int64_t>(exact_limit_)}));
  return rows.empty();
}

absl::StatusOr<std::vector<std::string>> Fts5SearchIndex::Search(const CatalogQuery& q) {
  std::string match = MatchExpression(q.text);
  std::string category = absl::AsciiStrToLower(q.category);
  bool exact = false;
  bool join_matches = false;
  if (!match.empty()) {
    // Matches that are not ranked exactly come in rating order, found one of two ways:
    // walking the rating index and probing the FTS index per product, about
    // (offset + limit) * products / matches probes of 30-120 µs each (more with more words
    // and more FTS segments), or joining every match to its attributes and sorting, ~1 µs a
    // match (more per EXISTS filter). Join below the match count where the costs cross. The
    // costs are measured constants: they pick a plan, never the results.
    ASSIGN_OR_RETURN(SqlRows total, store_.Query("SELECT max(doc) FROM product_search"));
    double products = total.empty() ? 0.0 : static_cast<double>(total[0].Int(0));
    auto words = static_cast<double>(std::count(match.begin(), match.end(), '"') / 2);
    double probe_us = 20.0 + 50.0 * words;
    double join_us = 1.0 + (category.empty() ? 0.0 : 0.4) + (q.instance_type.empty() ? 0.0 : 0.4);
    auto cross = static_cast<int64_t>(
        std::sqrt(static_cast<double>(q.offset + q.limit) * products * probe_us / join_us));
    // One count, stopped past the larger threshold (iterating matches costs ~40-160 ns each).
    int64_t cap = std::max(static_cast<int64_t>(exact_limit_), cross) + 1;
    ASSIGN_OR_RETURN(SqlRows counted,
                     store_.Query("SELECT count(*) FROM (SELECT 1 FROM product_fts WHERE"
                                  " product_fts MATCH ? LIMIT ?)",
                                  {match, cap}));
    int64_t matches = counted[0].Int(0);
    exact = matches <= static_cast<int64_t>(exact_limit_);
    join_matches = !exact && matches <= cross && static_cast<uint64_t>(matches) <= max_join_;
    std::vector<std::string> cat_terms = SearchTerms(category);
    if (!exact && !cat_terms.empty()) {
      // Broad words in a category: the category's words as a phrase of the categories
      // column narrow the FTS match; the exact category filter below still applies.
      std::string phrase;
      for (const std::string& t : cat_terms) phrase += (phrase.empty() ? "" : " ") + t;
      std::string narrowed = fmt::format("{} categories : \"{}\"", match, phrase);
      ASSIGN_OR_RETURN(SqlRows rows,
                       store_.Query("SELECT rowid FROM product_fts WHERE product_fts MATCH ?"
                                    " LIMIT 1 OFFSET ?",
                                    {narrowed, static_cast<int64_t>(exact_limit_)}));
      if (rows.empty()) {
        match = narrowed;
        exact = true;
        join_matches = false;
      }
    }
  }
  std::string sql;
  SqlParams params;
  bool category_done = false;
  bool type_done = false;
  if (exact || join_matches) {
    // Few matches: join them to their attributes and sort all of them.
    sql =
        "SELECT d.product_id FROM product_fts JOIN product_search d ON d.doc ="
        " product_fts.rowid WHERE product_fts MATCH ?";
    params.push_back(match);
  } else {
    // Otherwise a small category or instance-type set drives the query (CROSS JOIN fixes
    // the loop order); else the sort index is walked and filters are checked per product.
    bool small_category = false;
    bool small_type = false;
    if (!category.empty()) {
      ASSIGN_OR_RETURN(small_category, Small("product_categories", "category", category));
    }
    if (!small_category && !q.instance_type.empty()) {
      ASSIGN_OR_RETURN(small_type,
                       Small("product_instance_types", "instance_type", q.instance_type));
    }
    if (small_category) {
      sql =
          "SELECT d.product_id FROM product_categories c CROSS JOIN product_search d ON"
          " d.product_id = c.product_id WHERE c.category = ?";
      params.push_back(category);
      category_done = true;
    } else if (small_type) {
      sql =
          "SELECT d.product_id FROM product_instance_types i CROSS JOIN product_search d ON"
          " d.product_id = i.product_id WHERE i.instance_type = ?";
      params.push_back(q.instance_type);
      type_done = true;
    } else {
      sql = "SELECT d.product_id FROM product_search d WHERE 1 = 1";
    }
  }
  // Visibility: Public, or Limited for its seller and the accounts it allows.
  sql +=
      " AND (d.visibility = 'Public' OR (d.visibility = 'Limited' AND (d.seller_account = ?"
      " OR EXISTS (SELECT 1 FROM product_access a WHERE a.product_id = d.product_id AND"
      " a.account_id = ?))))";
  params.push_back(q.viewer);
  params.push_back(q.viewer);
  if (!q.kind.empty()) {
    sql += " AND d.kind = ?";
    params.push_back(q.kind);
  }
  if (!q.category.empty()) {
    sql +=
        " AND EXISTS (SELECT 1 FROM product_categories c WHERE c.product_id = d.product_id"
        " AND c.category = ?)";
    params.push_back(category);
  }
  if (q.free.has_value()) {
    sql += " AND d.is_free = ?";
    params.push_back(int64_t{*q.free ? 1 : 0});
  }
  if (q.free_trial) sql += " AND d.free_trial_days > 0";
  if (!q.instance_type.empty()) {
    sql +=
        " AND EXISTS (SELECT 1 FROM product_instance_types i WHERE i.product_id ="
        " d.product_id AND i.instance_type = ?)";
    params.push_back(q.instance_type);
  }
  if (!match.empty() && !exact && !join_matches) {
    // Many matches: walk the sort index and probe the FTS index per product (30-120 µs each);
    // past the first pages, building the match set once is cheaper.
    if (q.offset < 200) {
      sql +=
          " AND EXISTS (SELECT 1 FROM product_fts WHERE product_fts MATCH ? AND"
          " product_fts.rowid = d.doc)";
    } else {
      sql += " AND d.doc IN (SELECT rowid FROM product_fts WHERE product_fts MATCH ?)";
    }
    params.push_back(match);
  }
  CatalogSort sort = q.sort;
  if (sort == CatalogSort::kRelevance && !exact) {
    sort = match.empty() ? CatalogSort::kNewest : CatalogSort::kRating;
  }
  switch (sort) {
    case CatalogSort::kRelevance:
      // Column weights: title, short description, long description, categories.
      sql += " ORDER BY bm25(product_fts, 10.0, 5.0, 1.0, 3.0), d.product_id";
      break;
    case CatalogSort::kRating:
      sql +=
          " ORDER BY d.rating_key DESC, d.rating_count DESC, d.published_at DESC,"
          " d.product_id";
      break;
    case CatalogSort::kNewest:
      sql += " ORDER BY d.published_at DESC, d.product_id";
      break;
  }
  sql += " LIMIT ? OFFSET ?";
  params.push_back(static_cast<int64_t>(q.limit));
  params.push_back(static_cast<int64_t>(q.offset));
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(sql, params));
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const SqlRow& r : rows) ids.push_back(r.Text(0));
  return ids;
}

}  // namespace mercato::catalog
