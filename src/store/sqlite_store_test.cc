#include "store/sqlite_store.h"

#include <stdlib.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/migrations.h"

namespace mercato {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mercato_store_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

MetadataStorePtr OpenOrDie(const SqliteStoreOptions& options) {
  auto store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

MetadataStorePtr Memory() { return OpenOrDie({.path = ":memory:"}); }

int LatestVersion() { return AllMigrations().back().version; }

bool HasTable(MetadataStore& store, const std::string& name) {
  auto rows =
      store.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", {name});
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() && !rows->empty();
}

// Tables created by the newest migration, read from its statements.
std::vector<std::string> TablesOfLatestMigration() {
  std::vector<std::string> names;
  std::regex re(R"(CREATE TABLE (\w+))");
  for (const std::string& stmt : AllMigrations().back().statements) {
    std::smatch m;
    if (std::regex_search(stmt, m, re)) names.push_back(m[1]);
  }
  return names;
}

TEST(SqliteStoreTest, CrudAndValueTypes) {
  auto store = Memory();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), LatestVersion());
  ASSERT_TRUE(store
                  ->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, d DOUBLE PRECISION, "
                         "b TEXT)")
                  .ok());
  std::string binary("a\0b\xff\x01", 5);
  auto n = store->Exec("INSERT INTO t (k, n, d, b) VALUES (?, ?, ?, ?)",
                       {std::string("one"), int64_t{1} << 40, 2.5, binary});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(store
                  ->Exec("INSERT INTO t (k, n, d, b) VALUES (?, ?, ?, ?)",
                         {std::string("two"), int64_t{-7}, std::monostate{}, std::string("")})
                  .ok());

  auto rows = store->Query("SELECT k, n, d, b FROM t WHERE k = ?", {std::string("one")});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "one");
  EXPECT_EQ((*rows)[0].Int(1), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ((*rows)[0].Double(2), 2.5);
  EXPECT_EQ((*rows)[0].Text(3), binary);

  // Binary strings with NUL compare equal to themselves when bound again.
  rows = store->Query("SELECT k FROM t WHERE b = ?", {binary});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);

  rows = store->Query("SELECT d, b FROM t WHERE k = 'two'");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE((*rows)[0].IsNull(0));
  EXPECT_FALSE((*rows)[0].IsNull(1));
  EXPECT_EQ((*rows)[0].Text(1), "");

  n = store->Exec("UPDATE t SET n = n + 1", {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  n = store->Exec("DELETE FROM t WHERE k = ?", {std::string("two")});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  rows = store->Query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_TRUE(store->Ping().ok());
}

TEST(SqliteStoreTest, BadStatements) {
  auto store = Memory();
  EXPECT_EQ(store->Exec("SELECT ?", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Exec("SELECT 1; SELECT 2", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto s = store->Query("SELECT * FROM no_such_table").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no_such_table"));
}

TEST(SqliteStoreTest, UniqueViolationIsAlreadyExists) {
  auto store = Memory();
  ASSERT_TRUE(store->Exec("CREATE TABLE u (id TEXT PRIMARY KEY, name TEXT UNIQUE)").ok());
  ASSERT_TRUE(store->Exec("INSERT INTO u VALUES ('1', 'a')").ok());
  EXPECT_EQ(store->Exec("INSERT INTO u VALUES ('1', 'b')").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Exec("INSERT INTO u VALUES ('2', 'a')").status().code(),
            absl::StatusCode::kAlreadyExists);

  // Inside a transaction the failed statement is undone but the transaction goes on.
  auto txn = store->Begin();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ((*txn)->Exec("INSERT INTO u VALUES ('1', 'c')").status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE((*txn)->Exec("INSERT INTO u VALUES ('3', 'c')").ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  auto rows = store->Query("SELECT COUNT(*) FROM u");
  EXPECT_EQ((*rows)[0].Int(0), 2);
}

TEST(SqliteStoreTest, TransactionsCommitAndRollBack) {
  TempDir dir;
  auto store = OpenOrDie({.path = dir.File("meta.db")});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  {
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok()) << txn.status();
    ASSERT_TRUE((*txn)->Exec("INSERT INTO t VALUES ('committed')").ok());
    // Uncommitted writes are visible inside the transaction but not to readers.
    auto inside = (*txn)->Query("SELECT COUNT(*) FROM t");
    EXPECT_EQ((*inside)[0].Int(0), 1);
    auto outside = store->Query("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(outside.ok()) << outside.status();
    EXPECT_EQ((*outside)[0].Int(0), 0);
    // Writing outside the transaction from its own thread would wait for itself.
    EXPECT_EQ(store->Exec("INSERT INTO t VALUES ('x')").status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(store->Begin().status().code(), absl::StatusCode::kFailedPrecondition);
    ASSERT_TRUE((*txn)->Commit().ok());
    EXPECT_EQ((*txn)->Commit().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ((*txn)->Exec("INSERT INTO t VALUES ('late')").status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  {
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Exec("INSERT INTO t VALUES ('dropped')").ok());
    // Destroyed without Commit().
  }
  auto rows = store->Query("SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "committed");
  // The writer is free again after the rollback.
  EXPECT_TRUE(store->Exec("INSERT INTO t VALUES ('after')").ok());
}

void CountConcurrently(MetadataStore& store) {
  ASSERT_TRUE(store.Exec("CREATE TABLE counter (id TEXT PRIMARY KEY, n BIGINT NOT NULL)").ok());
  ASSERT_TRUE(store.Exec("INSERT INTO counter VALUES ('c', 0)").ok());
  constexpr int kThreads = 6;
  constexpr int kIncrements = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        // Read-modify-write: loses updates unless transactions are serialized.
        auto txn = store.Begin();
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        auto rows = (*txn)->Query("SELECT n FROM counter WHERE id = 'c'");
        if (!rows.ok() ||
            !(*txn)
                 ->Exec("UPDATE counter SET n = ? WHERE id = 'c'", {(*rows)[0].Int(0) + 1})
                 .ok() ||
            !(*txn)->Commit().ok()) {
          ++failures;
        }
        // Reads outside transactions run concurrently on the reader pool.
        if (!store.Query("SELECT n FROM counter").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto rows = store.Query("SELECT n FROM counter WHERE id = 'c'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), kThreads * kIncrements);
}

TEST(SqliteStoreTest, ConcurrentWritersLoseNoUpdatesInFile) {
  TempDir dir;
  auto store = OpenOrDie({.path = dir.File("meta.db"), .reader_pool_size = 2});
  ASSERT_NE(store, nullptr);
  CountConcurrently(*store);
}

TEST(SqliteStoreTest, ConcurrentWritersLoseNoUpdatesInMemory) {
  auto store = Memory();
  CountConcurrently(*store);
}

TEST(SqliteStoreTest, MigratesEmptyFileAndUsesWal) {
  TempDir dir;
  const std::string path = dir.File("meta.db");
  auto store = OpenOrDie({.path = path});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), LatestVersion());
  auto rows = store->Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), AllMigrations().size());
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].Int(0), AllMigrations()[i].version);
    EXPECT_EQ((*rows)[i].Text(1), AllMigrations()[i].name);
    EXPECT_GT((*rows)[i].Int(2), 0);
  }
  EXPECT_TRUE(HasTable(*store, "accounts"));
  ASSERT_TRUE(store->Exec("INSERT INTO accounts VALUES ('123456789012', 'a', 0, 1)").ok());
  EXPECT_TRUE(fs::exists(path + "-wal"));
  rows = store->Query("PRAGMA journal_mode");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Text(0), "wal");
}

TEST(SqliteStoreTest, MigratesFromPreviousSchemaKeepingRows) {
  ASSERT_GE(LatestVersion(), 2);
  TempDir dir;
  const std::string path = dir.File("meta.db");
  const std::vector<std::string> new_tables = TablesOfLatestMigration();
  ASSERT_FALSE(new_tables.empty());
  {
    auto old = OpenOrDie({.path = path, .max_schema_version = LatestVersion() - 1});
    ASSERT_NE(old, nullptr);
    EXPECT_EQ(old->SchemaVersion(), LatestVersion() - 1);
    for (const auto& t : new_tables) EXPECT_FALSE(HasTable(*old, t)) << t;
    ASSERT_TRUE(old->Exec("INSERT INTO accounts VALUES ('123456789012', 'old', 0, 1)").ok());
  }
  auto store = OpenOrDie({.path = path});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion(), LatestVersion());
  for (const auto& t : new_tables) EXPECT_TRUE(HasTable(*store, t)) << t;
  auto rows = store->Query("SELECT name FROM accounts WHERE id = ?", {std::string("123456789012")});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "old");
}

TEST(SqliteStoreTest, RefusesNewerSchema) {
  TempDir dir;
  const std::string path = dir.File("meta.db");
  {
    auto store = OpenOrDie({.path = path});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->Exec("INSERT INTO schema_migrations VALUES (?, 'from the future', 1)",
                           {int64_t{LatestVersion() + 1}})
                    .ok());
  }
  auto reopened = SqliteStore::Open({.path = path});
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reopened.status().message()), HasSubstr("newer"));

  // A build that knows fewer migrations refuses the current schema the same way.
  TempDir dir2;
  ASSERT_NE(OpenOrDie({.path = dir2.File("meta.db")}), nullptr);
  auto older =
      SqliteStore::Open({.path = dir2.File("meta.db"), .max_schema_version = LatestVersion() - 1});
  EXPECT_EQ(older.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteStoreTest, ReopenPersistsData) {
  TempDir dir;
  const std::string path = dir.File("meta.db");
  {
    auto store = OpenOrDie({.path = path});
    ASSERT_NE(store, nullptr);
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Exec("INSERT INTO accounts VALUES ('210987654321', 'kept', 1, 5)").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto store = OpenOrDie({.path = path});
  ASSERT_NE(store, nullptr);
  auto rows = store->Query("SELECT name, is_operator FROM accounts");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "kept");
  EXPECT_EQ((*rows)[0].Int(1), 1);
  // Migrations are not applied twice.
  rows = store->Query("SELECT COUNT(*) FROM schema_migrations");
  EXPECT_EQ((*rows)[0].Int(0), static_cast<int64_t>(AllMigrations().size()));
}

TEST(SqliteStoreTest, WriteThroughQueryGoesToWriter) {
  TempDir dir;
  auto store = OpenOrDie({.path = dir.File("meta.db")});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  auto rows = store->Query("INSERT INTO t VALUES ('r') RETURNING k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "r");
}

}  // namespace
}  // namespace mercato
