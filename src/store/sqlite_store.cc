#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"
#include "store/migrations.h"

namespace mercato {
namespace {

// A connection's prepared statements are kept until this many exist; then the cache is
// emptied. Statements are SQL literals in the code, so the working set is small.
constexpr size_t kMaxCachedStatements = 512;

absl::Status SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string msg = fmt::format("sqlite: {}: {} ({})", context,
                                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), sqlite3_errstr(rc));
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::AlreadyExistsError(msg);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

bool IsBlank(const char* s) {
  for (; *s; ++s) {
    if (!std::isspace(static_cast<unsigned char>(*s)) && *s != ';') return false;
  }
  return true;
}

// One SQLite connection and its statement cache. Used by one thread at a time (the
// store hands connections out under its own locks).
class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                          absl::Duration busy_timeout) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    auto conn = std::unique_ptr<Connection>(new Connection(db));
    if (rc != SQLITE_OK) return SqliteError(db, rc, fmt::format("open {}", path));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
    return conn;
  }

  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }

  // Runs SQL without parameters or caching (pragmas, BEGIN/COMMIT/ROLLBACK).
  absl::Status Raw(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (err) sqlite3_free(err);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
    return absl::OkStatus();
  }

  // A cached prepared statement for `sql`, reset and with no bindings.
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCachedStatements) {
      for (auto& [s, stmt] : cache_) sqlite3_finalize(stmt);
      cache_.clear();
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, fmt::format("prepare \"{}\"", key));
    if (stmt == nullptr) return absl::InvalidArgumentError("empty SQL statement");
    if (tail && !IsBlank(tail)) {
      sqlite3_finalize(stmt);
      return absl::InvalidArgumentError(
          fmt::format("one SQL statement per call, got more: \"{}\"", key));
    }
    cache_.emplace(std::move(key), stmt);
    return stmt;
  }

  // Binds `params`, steps `stmt` to the end (collecting rows into `rows` if non-null),
  // and returns the number of rows changed. The statement is always reset afterwards so
  // no read snapshot or lock outlives the call.
  absl::StatusOr<int64_t> Run(sqlite3_stmt* stmt, const SqlParams& params, SqlRows* rows) {
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    RETURN_IF_ERROR(Bind(stmt, params));
    const sqlite3_int64 before = sqlite3_total_changes64(db_);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, sqlite3_sql(stmt));
      if (rows) rows->push_back(ReadRow(stmt));
    }
    // total_changes counts only INSERT/UPDATE/DELETE, so DDL reports 0 (unlike changes(),
    // which would repeat the previous statement's count).
    return static_cast<int64_t>(sqlite3_total_changes64(db_) - before);
  }

  absl::StatusOr<int64_t> Exec(std::string_view sql, const SqlParams& params) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    return Run(stmt, params, nullptr);
  }

  absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    SqlRows rows;
    RETURN_IF_ERROR(Run(stmt, params, &rows).status());
    return rows;
  }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  absl::Status Bind(sqlite3_stmt* stmt, const SqlParams& params) {
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<size_t>(expected) != params.size()) {
      return absl::InvalidArgumentError(fmt::format("statement \"{}\" takes {} parameters, got {}",
                                                    sqlite3_sql(stmt), expected, params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else {
        const std::string& s = std::get<std::string>(v);
        // TEXT keeps comparisons with SQL literals working; a NUL byte is not valid in
        // portable TEXT (PostgreSQL rejects it), so such values go in as BLOB.
        if (s.find('\0') != std::string::npos) {
          rc = sqlite3_bind_blob64(stmt, idx, s.data(), s.size(), SQLITE_TRANSIENT);
        } else {
          rc = sqlite3_bind_text64(stmt, idx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        }
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind");
    }
    return absl::OkStatus();
  }

  static SqlRow ReadRow(sqlite3_stmt* stmt) {
    const int n = sqlite3_column_count(stmt);
    std::vector<SqlValue> values;
    values.reserve(n);
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(stmt, i));
          break;
        case SQLITE_TEXT: {
          auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
          values.emplace_back(std::string(p ? p : "", sqlite3_column_bytes(stmt, i)));
          break;
        }
        case SQLITE_BLOB: {
          auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
          values.emplace_back(std::string(p ? p : "", sqlite3_column_bytes(stmt, i)));
          break;
        }
        default:
          values.emplace_back(std::monostate{});
      }
    }
    return SqlRow(std::move(values));
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Exclusive use of the writer connection, waited for with a timeout. A flag under a
// mutex rather than std::timed_mutex: the lease may be released by whichever thread
// destroys a Transaction, and sanitizers understand condition variables.
class WriterGate {
 public:
  class Lease {
   public:
    explicit Lease(WriterGate* gate) : gate_(gate) {}
    Lease(Lease&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (gate_) gate_->Release();
    }

   private:
    WriterGate* gate_;
  };

  absl::StatusOr<Lease> Acquire(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return !held_; })) {
      return absl::UnavailableError(
          fmt::format("sqlite: the database stayed busy for {}", absl::FormatDuration(timeout)));
    }
    held_ = true;
    return Lease(this);
  }

 private:
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
};

class SqliteMetadataStore;

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteMetadataStore& store, WriterGate::Lease lock);
  ~SqliteTransaction() override;
  absl::StatusOr<int64_t> Exec(std::string_view sql, const SqlParams& params) override;
  absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params) override;
  absl::Status Commit() override;

 private:
  absl::Status CheckOpen();

  SqliteMetadataStore& store_;
  WriterGate::Lease lock_;  // the writer; released last
  bool done_ = false;
};

class SqliteMetadataStore final : public MetadataStore {
 public:
  explicit SqliteMetadataStore(absl::Duration busy_timeout) : busy_timeout_(busy_timeout) {}

  absl::Status OpenAndMigrate(const SqliteStoreOptions& options);

  absl::StatusOr<TransactionPtr> Begin() override {
    if (HoldsTransaction()) {
      return absl::FailedPreconditionError("this thread already holds an open transaction");
    }
    ASSIGN_OR_RETURN(auto lock, LockWriter());
    writer_owner_.store(std::this_thread::get_id());
    absl::Status s = writer_->Raw("BEGIN IMMEDIATE");
    if (!s.ok()) {
      writer_owner_.store(std::thread::id());
      return s;
    }
    return std::make_unique<SqliteTransaction>(*this, std::move(lock));
  }

  absl::StatusOr<int64_t> Exec(std::string_view sql, const SqlParams& params) override {
    if (HoldsTransaction()) {
      return absl::FailedPreconditionError(
          "MetadataStore::Exec called by a thread holding an open transaction; use it");
    }
    ASSIGN_OR_RETURN(auto lock, LockWriter());
    return writer_->Exec(sql, params);
  }

  absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params) override {
    if (readers_.empty()) {
      // Single connection: a thread inside its own transaction reads through it.
      if (HoldsTransaction()) return writer_->Query(sql, params);
      ASSIGN_OR_RETURN(auto lock, LockWriter());
      return writer_->Query(sql, params);
    }
    {
      ASSIGN_OR_RETURN(Connection * reader, AcquireReader());
      ReaderLease lease{this, reader};
      ASSIGN_OR_RETURN(sqlite3_stmt * stmt, reader->Prepare(sql));
      if (sqlite3_stmt_readonly(stmt)) {
        SqlRows rows;
        RETURN_IF_ERROR(reader->Run(stmt, params, &rows).status());
        return rows;
      }
    }
    // A statement that writes (e.g. INSERT ... RETURNING) belongs on the writer.
    if (HoldsTransaction()) {
      return absl::FailedPreconditionError(
          "MetadataStore::Query that writes called by a thread holding an open transaction");
    }
    ASSIGN_OR_RETURN(auto lock, LockWriter());
    return writer_->Query(sql, params);
  }

  absl::Status Ping() override { return Query("SELECT 1", {}).status(); }

  int SchemaVersion() const override { return schema_version_; }

 private:
  friend class SqliteTransaction;

  struct ReaderLease {
    SqliteMetadataStore* store;
    Connection* conn;
    ~ReaderLease() { store->ReleaseReader(conn); }
  };

  bool HoldsTransaction() const { return writer_owner_.load() == std::this_thread::get_id(); }

  absl::StatusOr<WriterGate::Lease> LockWriter() { return writer_gate_.Acquire(busy_timeout_); }

  absl::StatusOr<Connection*> AcquireReader() {
    std::unique_lock<std::mutex> lock(pool_mu_);
    if (!pool_cv_.wait_for(lock, absl::ToChronoMilliseconds(busy_timeout_),
                           [&] { return !idle_readers_.empty(); })) {
      return absl::UnavailableError("sqlite: no reader connection became free");
    }
    Connection* c = idle_readers_.back();
    idle_readers_.pop_back();
    return c;
  }

  void ReleaseReader(Connection* c) {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      idle_readers_.push_back(c);
    }
    pool_cv_.notify_one();
  }

  absl::Status Migrate(const SqliteStoreOptions& options);

  const absl::Duration busy_timeout_;
  std::unique_ptr<Connection> writer_;
  WriterGate writer_gate_;
  // The thread holding the open transaction, if any; lets calls that would wait for
  // their own thread fail instead of deadlocking.
  std::atomic<std::thread::id> writer_owner_{};
  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<Connection*> idle_readers_;
  int schema_version_ = 0;
};

SqliteTransaction::SqliteTransaction(SqliteMetadataStore& store, WriterGate::Lease lock)
    : store_(store), lock_(std::move(lock)) {}

SqliteTransaction::~SqliteTransaction() {
  if (!done_ && !sqlite3_get_autocommit(store_.writer_->db())) {
    absl::Status s = store_.writer_->Raw("ROLLBACK");
    if (!s.ok()) spdlog::error("sqlite: rollback failed: {}", s.ToString());
  }
  store_.writer_owner_.store(std::thread::id());
}

absl::Status SqliteTransaction::CheckOpen() {
  if (done_) return absl::FailedPreconditionError("transaction already committed");
  // SQLite rolls a transaction back by itself after some errors (disk full, I/O); going
  // on would run the remaining statements in autocommit mode, one by one.
  if (sqlite3_get_autocommit(store_.writer_->db())) {
    return absl::AbortedError("transaction was rolled back after an earlier error");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteTransaction::Exec(std::string_view sql, const SqlParams& params) {
  RETURN_IF_ERROR(CheckOpen());
  return store_.writer_->Exec(sql, params);
}

absl::StatusOr<SqlRows> SqliteTransaction::Query(std::string_view sql, const SqlParams& params) {
  RETURN_IF_ERROR(CheckOpen());
  return store_.writer_->Query(sql, params);
}

absl::Status SqliteTransaction::Commit() {
  RETURN_IF_ERROR(CheckOpen());
  done_ = true;
  absl::Status s = store_.writer_->Raw("COMMIT");
  if (!s.ok() && !sqlite3_get_autocommit(store_.writer_->db())) {
    (void)store_.writer_->Raw("ROLLBACK");
  }
  return s;
}

absl::Status SqliteMetadataStore::OpenAndMigrate(const SqliteStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("sqlite: empty database path");
  const bool memory = options.path == ":memory:";
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (options.path.rfind("file:", 0) == 0) flags |= SQLITE_OPEN_URI;
  ASSIGN_OR_RETURN(writer_, Connection::Open(options.path, flags, busy_timeout_));
  if (!memory) {
    ASSIGN_OR_RETURN(SqlRows mode, writer_->Query("PRAGMA journal_mode=WAL", {}));
    if (mode.empty() || mode[0].Text(0) != "wal") {
      return absl::InternalError(
          fmt::format("sqlite: could not switch {} to WAL mode", options.path));
    }
  }
  RETURN_IF_ERROR(writer_->Raw("PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(writer_->Raw("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(Migrate(options));

  const size_t pool = memory ? 0 : options.reader_pool_size;
  for (size_t i = 0; i < pool; ++i) {
    ASSIGN_OR_RETURN(auto reader,
                     Connection::Open(options.path, flags & ~SQLITE_OPEN_CREATE, busy_timeout_));
    RETURN_IF_ERROR(reader->Raw("PRAGMA foreign_keys=ON"));
    RETURN_IF_ERROR(reader->Raw("PRAGMA query_only=1"));
    // Reads (catalog search above all) go through the OS page cache without copying, and
    // each reader keeps a bigger page cache of its own (SQLite's default is 2 MiB).
    RETURN_IF_ERROR(reader->Raw("PRAGMA mmap_size=268435456"));
    RETURN_IF_ERROR(reader->Raw("PRAGMA cache_size=-16384"));
    idle_readers_.push_back(reader.get());
    readers_.push_back(std::move(reader));
  }
  return absl::OkStatus();
}

absl::Status SqliteMetadataStore::Migrate(const SqliteStoreOptions& options) {
  const auto& migrations = AllMigrations();
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  const int target =
      options.max_schema_version < 0 ? latest : std::min(options.max_schema_version, latest);
  RETURN_IF_ERROR(
      writer_->Raw("CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  auto current_version = [&]() -> absl::StatusOr<int> {
    ASSIGN_OR_RETURN(SqlRows rows,
                     writer_->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
    return static_cast<int>(rows.at(0).Int(0));
  };
  ASSIGN_OR_RETURN(int current, current_version());
  if (current > target) {
    return absl::FailedPreconditionError(fmt::format(
        "database {} has schema version {}, newer than this build of Mercato supports ({}); "
        "run a newer Mercato or restore a backup made by this version",
        options.path, current, target));
  }
  RealClock real_clock;
  const Clock& clock = options.clock ? *options.clock : real_clock;
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    if (m.version > target) break;
    RETURN_IF_ERROR(writer_->Raw("BEGIN IMMEDIATE"));
    // Another process may have migrated while this one waited for the lock.
    absl::StatusOr<int> now_current = current_version();
    absl::Status s = now_current.status();
    if (s.ok() && *now_current < m.version) {
      for (const std::string& stmt : m.statements) {
        s = writer_->Raw(stmt);
        if (!s.ok()) break;
      }
      if (s.ok()) {
        s = writer_
                ->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                       {int64_t{m.version}, m.name, absl::ToUnixMicros(clock.Now())})
                .status();
      }
    }
    if (s.ok()) s = writer_->Raw("COMMIT");
    if (!s.ok()) {
      if (!sqlite3_get_autocommit(writer_->db())) (void)writer_->Raw("ROLLBACK");
      return absl::Status(s.code(), fmt::format("migration {} ({}) failed: {}", m.version, m.name,
                                                std::string(s.message())));
    }
    spdlog::info("sqlite: applied schema migration {} ({})", m.version, m.name);
  }
  ASSIGN_OR_RETURN(schema_version_, current_version());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MetadataStorePtr> SqliteStore::Open(const SqliteStoreOptions& options) {
  auto store = std::make_unique<SqliteMetadataStore>(options.busy_timeout);
  RETURN_IF_ERROR(store->OpenAndMigrate(options));
  return MetadataStorePtr(std::move(store));
}

}  // namespace mercato
