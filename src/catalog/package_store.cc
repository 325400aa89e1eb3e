#include "catalog/package_store.h"

#include "base/status.h"

namespace mercato::catalog {
namespace {

constexpr char kColumns[] =
    "account_id, kind, name, arn, group_name, version, status, spec, details, validation,"
    " created_at, last_modified";

Json ParseOr(const std::string& text, Json fallback) {
  auto j = ParseJson(text);
  return j.ok() ? std::move(*j) : std::move(fallback);
}

PackageRecord FromRow(const SqlRow& row) {
  PackageRecord r;
  r.account_id = row.Text(0);
  r.kind = row.Text(1);
  r.name = row.Text(2);
  r.arn = row.Text(3);
  r.group_name = row.Text(4);
  r.version = row.Int(5);
  r.status = row.Text(6);
  r.spec = ParseOr(row.Text(7), Json::object());
  r.details = ParseOr(row.Text(8), Json::object());
  r.validation = ParseOr(row.Text(9), Json::object());
  r.created_at = row.Int(10);
  r.last_modified = row.Int(11);
  return r;
}

GroupRecord GroupFromRow(const SqlRow& row) {
  return {row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Int(4), row.Int(5)};
}

constexpr char kGroupColumns[] = "account_id, name, arn, description, next_version, created_at";

}  // namespace

absl::Status PackageStore::Insert(const PackageRecord& r) {
  return store_
      .Exec(std::string("INSERT INTO catalog_packages (") + kColumns +
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {r.account_id, r.kind, r.name, r.arn, r.group_name, r.version, r.status, r.spec.dump(),
             r.details.dump(), r.validation.dump(), r.created_at, r.last_modified})
      .status();
}

absl::StatusOr<std::optional<PackageRecord>> PackageStore::Get(std::string_view account,
                                                               std::string_view kind,
                                                               std::string_view name) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(std::string("SELECT ") + kColumns +
                                    " FROM catalog_packages WHERE account_id = ? AND kind = ?"
                                    " AND name = ?",
                                {std::string(account), std::string(kind), std::string(name)}));
  if (rows.empty()) return std::nullopt;
  return FromRow(rows[0]);
}

absl::StatusOr<std::optional<PackageRecord>> PackageStore::GetByArn(std::string_view arn) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(std::string("SELECT ") + kColumns +
                                                  " FROM catalog_packages WHERE arn = ?",
                                              {std::string(arn)}));
  if (rows.empty()) return std::nullopt;
  return FromRow(rows[0]);
}

absl::StatusOr<std::vector<PackageRecord>> PackageStore::List(std::string_view account,
                                                              std::string_view kind,
                                                              std::string_view group) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM catalog_packages WHERE account_id = ? AND kind = ?";
  SqlParams params = {std::string(account), std::string(kind)};
  if (!group.empty()) {
    sql += " AND group_name = ?";
    params.push_back(std::string(group));
  }
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(sql + " ORDER BY created_at, name", params));
  std::vector<PackageRecord> out;
  for (const SqlRow& row : rows) out.push_back(FromRow(row));
  return out;
}

absl::StatusOr<std::vector<PackageRecord>> PackageStore::Unsettled() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(std::string("SELECT ") + kColumns +
                                                  " FROM catalog_packages WHERE status IN (?, ?, ?)"
                                                  " ORDER BY created_at",
                                              {std::string(kPending), std::string(kInProgress),
                                               std::string(kDeleting)}));
  std::vector<PackageRecord> out;
  for (const SqlRow& row : rows) out.push_back(FromRow(row));
  return out;
}

absl::Status PackageStore::Update(const PackageRecord& r) {
  ASSIGN_OR_RETURN(int64_t n, store_.Exec("UPDATE catalog_packages SET status = ?, spec = ?,"
                                          " details = ?, validation = ?, last_modified = ?"
                                          " WHERE arn = ?",
                                          {r.status, r.spec.dump(), r.details.dump(),
                                           r.validation.dump(), r.last_modified, r.arn}));
  if (n == 0) return absl::NotFoundError("package " + r.arn + " no longer exists");
  return absl::OkStatus();
}

absl::StatusOr<bool> PackageStore::UpdateIf(const PackageRecord& r, std::string_view expected) {
  ASSIGN_OR_RETURN(int64_t n,
                   store_.Exec("UPDATE catalog_packages SET status = ?, spec = ?,"
                               " details = ?, validation = ?, last_modified = ?"
                               " WHERE arn = ? AND status = ?",
                               {r.status, r.spec.dump(), r.details.dump(), r.validation.dump(),
                                r.last_modified, r.arn, std::string(expected)}));
  return n > 0;
}

absl::Status PackageStore::Delete(std::string_view arn) {
  return store_.Exec("DELETE FROM catalog_packages WHERE arn = ?", {std::string(arn)}).status();
}

absl::Status PackageStore::InsertGroup(const GroupRecord& g) {
  return store_
      .Exec(std::string("INSERT INTO model_package_groups (") + kGroupColumns +
                ") VALUES (?, ?, ?, ?, ?, ?)",
            {g.account_id, g.name, g.arn, g.description, g.next_version, g.created_at})
      .status();
}

absl::StatusOr<std::optional<GroupRecord>> PackageStore::GetGroup(std::string_view account,
                                                                  std::string_view name) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(std::string("SELECT ") + kGroupColumns +
                                                  " FROM model_package_groups"
                                                  " WHERE account_id = ? AND name = ?",
                                              {std::string(account), std::string(name)}));
  if (rows.empty()) return std::nullopt;
  return GroupFromRow(rows[0]);
}

absl::StatusOr<std::vector<GroupRecord>> PackageStore::ListGroups(std::string_view account) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(std::string("SELECT ") + kGroupColumns +
                                                  " FROM model_package_groups"
                                                  " WHERE account_id = ? ORDER BY created_at",
                                              {std::string(account)}));
  std::vector<GroupRecord> out;
  for (const SqlRow& row : rows) out.push_back(GroupFromRow(row));
  return out;
}

absl::Status PackageStore::DeleteGroup(std::string_view account, std::string_view name) {
  return store_
      .Exec("DELETE FROM model_package_groups WHERE account_id = ? AND name = ?",
            {std::string(account), std::string(name)})
      .status();
}

absl::StatusOr<int64_t> PackageStore::NextVersion(std::string_view account,
                                                  std::string_view group) {
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(SqlRows rows, tx->Query("SELECT next_version FROM model_package_groups"
                                           " WHERE account_id = ? AND name = ?",
                                           {std::string(account), std::string(group)}));
  if (rows.empty()) return absl::NotFoundError("no such model package group");
  int64_t v = rows[0].Int(0);
  RETURN_IF_ERROR(tx->Exec("UPDATE model_package_groups SET next_version = ?"
                           " WHERE account_id = ? AND name = ?",
                           {v + 1, std::string(account), std::string(group)})
                      .status());
  RETURN_IF_ERROR(tx->Commit());
  return v;
}

}  // namespace mercato::catalog
