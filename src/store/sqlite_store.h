// SqliteStore: the embedded MetadataStore, one SQLite file in the data dir.
//
// Durability: the file runs in WAL mode with synchronous=NORMAL. In WAL mode NORMAL
// syncs the WAL at checkpoints only, so a committed transaction survives a crash of the
// process (kill -9: the WAL is in the OS page cache and is replayed at the next open) but
// the last transactions may roll back after a power loss or OS crash. Surviving a process
// crash without losing an acknowledged write is Mercato's requirement; FULL would add an
// fsync per commit for the power-loss case only.
//
// Concurrency: one writer connection, guarded by a mutex held for the whole life of a
// Transaction (BEGIN IMMEDIATE), so writers in this process queue on the mutex and other
// processes on SQLite's busy handler; both waits end after `busy_timeout` with
// Unavailable. Query() outside a transaction runs on a small pool of reader connections,
// which WAL lets read the last committed state while a writer works; Exec() outside a
// transaction runs on the writer in autocommit mode. A ":memory:" database has a single
// connection (reads share the writer). Each connection caches its prepared statements.
//
// Values: int64 binds as INTEGER, double as REAL, std::string as TEXT (with its length,
// so any bytes round-trip) or as BLOB when it contains a NUL byte; TEXT and BLOB columns
// both read back as std::string.
//
// Migrations (store/migrations.h) missing from `schema_migrations` run at Open, each in
// one transaction. A database whose schema is newer than the binary knows is refused
// with FailedPrecondition rather than touched.
//
// Thread-safety: the store is thread-safe. A Transaction belongs to the thread that began
// it; calling the store's own Exec() from a thread that holds an open transaction is an
// error (it would wait for itself), use the transaction instead.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "store/metadata_store.h"

namespace mercato {

struct SqliteStoreOptions {
  // A file path, or ":memory:" for a private in-memory database (tests).
  std::string path;
  // How long a writer waits for the write lock (in this process or another) before the
  // operation fails with Unavailable.
  absl::Duration busy_timeout = absl::Seconds(10);
  // Apply migrations only up to this version (tests use it to build an older schema);
  // a negative value means all. A database already past it is refused.
  int max_schema_version = -1;
  // Reader connections for Query() outside transactions; 0 sends reads to the writer.
  // Ignored (0) for ":memory:".
  size_t reader_pool_size = 4;
  // Stamps schema_migrations.applied_at; the system clock when null.
  const Clock* clock = nullptr;
};

class SqliteStore {
 public:
  static absl::StatusOr<MetadataStorePtr> Open(const SqliteStoreOptions& options);
};

}  // namespace mercato
