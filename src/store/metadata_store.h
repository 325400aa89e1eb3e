// MetadataStore: the durable home of every record Mercato keeps (accounts, keys, buckets,
// objects, and later models, endpoints, products, subscriptions, usage...).
//
// The interface speaks a portable subset of SQL so that the embedded SQLite backend and
// the later PostgreSQL backend run the same statements:
//   - `?` positional placeholders (the PostgreSQL backend rewrites them to $n);
//   - types TEXT, BIGINT, DOUBLE PRECISION; no AUTOINCREMENT, ids are chosen by callers;
//   - upserts as `INSERT ... ON CONFLICT (cols) DO UPDATE SET ...`, no `INSERT OR REPLACE`;
//   - no SQLite pragmas, rowid, or date functions above this interface.
// Full-text search is not part of the portable subset; it gets its own interface later.
//
// Errors: a UNIQUE or PRIMARY KEY violation is AlreadyExists; a busy database is retried
// internally and surfaces as Unavailable only after the busy timeout; SQL errors are
// Internal. Thread-safety: a MetadataStore is thread-safe. A Transaction belongs to the
// thread that began it; write transactions are serialized, so keep them short.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mercato {

// A bound parameter or a column value. Text also carries binary data.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using SqlParams = std::vector<SqlValue>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_[i]); }
  // Type conversions are lenient: a NULL reads as "" or 0.
  std::string Text(size_t i) const;
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  const SqlValue& value(size_t i) const { return values_[i]; }

 private:
  std::vector<SqlValue> values_;
};

using SqlRows = std::vector<SqlRow>;

// A unit of work. Destroying it without Commit() rolls it back.
class Transaction {
 public:
  virtual ~Transaction() = default;
  // Runs a statement; returns the number of rows changed.
  virtual absl::StatusOr<int64_t> Exec(std::string_view sql, const SqlParams& params = {}) = 0;
  virtual absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params = {}) = 0;
  virtual absl::Status Commit() = 0;
};
using TransactionPtr = std::unique_ptr<Transaction>;

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  // Begins a read-write transaction (serialized with other writers).
  virtual absl::StatusOr<TransactionPtr> Begin() = 0;
  // Single statements outside an explicit transaction (each is atomic on its own).
  virtual absl::StatusOr<int64_t> Exec(std::string_view sql, const SqlParams& params = {}) = 0;
  virtual absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params = {}) = 0;
  // OK when the store can serve reads and writes (used by GET /health).
  virtual absl::Status Ping() = 0;
  // The schema version after migrations ran.
  virtual int SchemaVersion() const = 0;
};
using MetadataStorePtr = std::unique_ptr<MetadataStore>;

}  // namespace mercato
