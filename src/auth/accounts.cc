#include "auth/accounts.h"

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "base/aead.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::auth {
namespace {

constexpr std::string_view kDefaultUser = "admin";
constexpr std::string_view kActive = "Active";
constexpr std::string_view kInactive = "Inactive";
// Account ids are random; a collision is retried with a fresh id this many times.
constexpr int kIdAttempts = 5;

bool IsValidAccountName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

Account AccountFromRow(const SqlRow& row) {
  return Account{.id = row.Text(0),
                 .name = row.Text(1),
                 .is_operator = row.Int(2) != 0,
                 .created_at = FromMicros(row.Int(3))};
}

absl::Status NoSuchAccount(std::string_view id) {
  return AwsError(absl::StatusCode::kNotFound, "NoSuchEntity",
                  fmt::format("The account {} cannot be found.", id));
}

}  // namespace

struct AccountService::Impl {
  Impl(MetadataStore& s, const Clock& c, std::string key)
      : store(s), clock(c), master_key(std::move(key)) {}

  MetadataStore& store;
  const Clock& clock;
  std::string master_key;

  // Request-path caches. `generation` moves on every invalidation so that a lookup that
  // read the database before a revocation cannot put the stale answer back afterwards.
  std::mutex mu;
  uint64_t generation = 0;
  std::unordered_map<std::string, KeyWithSecret> keys;  // by access key id
  std::unordered_map<std::string, Principal> tokens;    // by token SHA-256 hex

  uint64_t Generation() {
    std::lock_guard<std::mutex> lock(mu);
    return generation;
  }

  void InvalidateKey(const std::string& key_id) {
    std::lock_guard<std::mutex> lock(mu);
    ++generation;
    keys.erase(key_id);
  }

  // Inserts an access key (sealed secret) for an existing account and user.
  absl::StatusOr<NewAccessKey> InsertAccessKey(Transaction& txn, std::string_view account_id,
                                               std::string_view user_name) {
    if (master_key.size() != kAeadKeySize) {
      return absl::FailedPreconditionError("the master key must be 32 bytes");
    }
    NewAccessKey out;
    out.key = AccessKey{.id = NewAccessKeyId(),
                        .account_id = std::string(account_id),
                        .user_name = std::string(user_name),
                        .status = std::string(kActive),
                        .created_at = clock.Now()};
    out.secret_access_key = NewSecretAccessKey();
    // The key id is the associated data, so a sealed secret cannot be moved to another key.
    const std::string sealed = HexEncode(AeadSeal(master_key, out.secret_access_key, out.key.id));
    RETURN_IF_ERROR(txn.Exec("INSERT INTO access_keys (id, account_id, user_name, secret_sealed,"
                             " status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                             {out.key.id, out.key.account_id, out.key.user_name, sealed,
                              std::string(kActive), Micros(out.key.created_at)})
                        .status());
    return out;
  }

  absl::StatusOr<std::string> InsertToken(Transaction& txn, std::string_view account_id,
                                          std::string_view user_name,
                                          std::string_view description) {
    std::string token = NewToken();
    RETURN_IF_ERROR(txn.Exec("INSERT INTO tokens (token_hash, account_id, user_name, description,"
                             " created_at, revoked) VALUES (?, ?, ?, ?, ?, 0)",
                             {Sha256Hex(token), std::string(account_id), std::string(user_name),
                              std::string(description), Micros(clock.Now())})
                        .status());
    return token;
  }

  absl::Status CheckAccount(Transaction& txn, std::string_view account_id) {
    ASSIGN_OR_RETURN(SqlRows rows,
                     txn.Query("SELECT 1 FROM accounts WHERE id = ?", {std::string(account_id)}));
    if (rows.empty()) return NoSuchAccount(account_id);
    return absl::OkStatus();
  }
};

AccountService::AccountService(MetadataStore& store, const Clock& clock, std::string master_key)
    : impl_(std::make_unique<Impl>(store, clock, std::move(master_key))) {}

AccountService::~AccountService() = default;

absl::StatusOr<NewAccountCredentials> AccountService::CreateAccount(std::string_view name,
                                                                    bool is_operator) {
  if (!IsValidAccountName(name)) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    "Account names are 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.");
  }
  ASSIGN_OR_RETURN(TransactionPtr txn, impl_->store.Begin());
  ASSIGN_OR_RETURN(SqlRows taken,
                   txn->Query("SELECT 1 FROM accounts WHERE name = ?", {std::string(name)}));
  if (!taken.empty()) {
    return AwsError(absl::StatusCode::kAlreadyExists, "EntityAlreadyExists",
                    fmt::format("An account named {} already exists.", name));
  }
  if (is_operator) {
    // Checked inside the write transaction, which serializes account creation.
    ASSIGN_OR_RETURN(SqlRows ops, txn->Query("SELECT id FROM accounts WHERE is_operator = 1"));
    if (!ops.empty()) {
      return AwsError(absl::StatusCode::kAlreadyExists, "EntityAlreadyExists",
                      fmt::format("An operator account already exists ({}).", ops[0].Text(0)));
    }
  }

  NewAccountCredentials creds;
  creds.account.name = std::string(name);
  creds.account.is_operator = is_operator;
  creds.account.created_at = impl_->clock.Now();
  absl::Status inserted;
  for (int attempt = 0; attempt < kIdAttempts; ++attempt) {
    creds.account.id = NewAccountId();
    inserted = txn->Exec(
                      "INSERT INTO accounts (id, name, is_operator, created_at)"
                      " VALUES (?, ?, ?, ?)",
                      {creds.account.id, creds.account.name, int64_t{is_operator ? 1 : 0},
                       Micros(creds.account.created_at)})
                   .status();
    // The name was checked above, so AlreadyExists here means the random id collided.
    if (inserted.code() != absl::StatusCode::kAlreadyExists) break;
  }
  RETURN_IF_ERROR(inserted);
  RETURN_IF_ERROR(
      txn->Exec("INSERT INTO users (account_id, name, created_at) VALUES (?, ?, ?)",
                {creds.account.id, std::string(kDefaultUser), Micros(creds.account.created_at)})
          .status());
  ASSIGN_OR_RETURN(creds.access_key, impl_->InsertAccessKey(*txn, creds.account.id, kDefaultUser));
  ASSIGN_OR_RETURN(creds.token, impl_->InsertToken(*txn, creds.account.id, kDefaultUser,
                                                   "created with the account"));
  RETURN_IF_ERROR(txn->Commit());
  return creds;
}

absl::StatusOr<Account> AccountService::GetAccount(std::string_view account_id) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   impl_->store.Query("SELECT id, name, is_operator, created_at FROM accounts"
                                      " WHERE id = ?",
                                      {std::string(account_id)}));
  if (rows.empty()) return NoSuchAccount(account_id);
  return AccountFromRow(rows[0]);
}

absl::StatusOr<std::vector<Account>> AccountService::ListAccounts() {
  ASSIGN_OR_RETURN(SqlRows rows, impl_->store.Query("SELECT id, name, is_operator, created_at"
                                                    " FROM accounts ORDER BY name"));
  std::vector<Account> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) out.push_back(AccountFromRow(row));
  return out;
}

absl::StatusOr<std::optional<Account>> AccountService::OperatorAccount() {
  ASSIGN_OR_RETURN(SqlRows rows, impl_->store.Query("SELECT id, name, is_operator, created_at"
                                                    " FROM accounts WHERE is_operator = 1"));
  if (rows.empty()) return std::optional<Account>();
  return std::optional<Account>(AccountFromRow(rows[0]));
}

absl::StatusOr<NewAccessKey> AccountService::CreateAccessKey(std::string_view account_id,
                                                             std::string_view user_name) {
  ASSIGN_OR_RETURN(TransactionPtr txn, impl_->store.Begin());
  RETURN_IF_ERROR(impl_->CheckAccount(*txn, account_id));
  ASSIGN_OR_RETURN(SqlRows user, txn->Query("SELECT 1 FROM users WHERE account_id = ? AND name = ?",
                                            {std::string(account_id), std::string(user_name)}));
  if (user.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "NoSuchEntity",
                    fmt::format("The user with name {} cannot be found.", user_name));
  }
  ASSIGN_OR_RETURN(NewAccessKey key, impl_->InsertAccessKey(*txn, account_id, user_name));
  RETURN_IF_ERROR(txn->Commit());
  return key;
}

absl::StatusOr<std::vector<AccessKey>> AccountService::ListAccessKeys(std::string_view account_id) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   impl_->store.Query("SELECT id, account_id, user_name, status, created_at"
                                      " FROM access_keys WHERE account_id = ?"
                                      " ORDER BY created_at, id",
                                      {std::string(account_id)}));
  std::vector<AccessKey> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) {
    out.push_back(AccessKey{.id = row.Text(0),
                            .account_id = row.Text(1),
                            .user_name = row.Text(2),
                            .status = row.Text(3),
                            .created_at = FromMicros(row.Int(4))});
  }
  return out;
}

absl::Status AccountService::RevokeAccessKey(std::string_view account_id, std::string_view key_id) {
  // The key stays listed as Inactive; it is never reactivated.
  ASSIGN_OR_RETURN(int64_t changed, impl_->store.Exec("UPDATE access_keys SET status = ?"
                                                      " WHERE id = ? AND account_id = ?",
                                                      {std::string(kInactive), std::string(key_id),
                                                       std::string(account_id)}));
  impl_->InvalidateKey(std::string(key_id));
  if (changed == 0) {
    return AwsError(absl::StatusCode::kNotFound, "NoSuchEntity",
                    fmt::format("The Access Key with id {} cannot be found.", key_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AccountService::CreateToken(std::string_view account_id,
                                                        std::string_view description) {
  ASSIGN_OR_RETURN(TransactionPtr txn, impl_->store.Begin());
  RETURN_IF_ERROR(impl_->CheckAccount(*txn, account_id));
  ASSIGN_OR_RETURN(std::string token,
                   impl_->InsertToken(*txn, account_id, kDefaultUser, description));
  RETURN_IF_ERROR(txn->Commit());
  return token;
}

absl::StatusOr<AccountService::KeyWithSecret> AccountService::LookupAccessKey(
    std::string_view key_id) {
  const std::string id(key_id);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (auto it = impl_->keys.find(id); it != impl_->keys.end()) return it->second;
    generation = impl_->generation;
  }
  ASSIGN_OR_RETURN(SqlRows rows,
                   impl_->store.Query("SELECT k.account_id, k.user_name, k.secret_sealed,"
                                      " k.status, a.is_operator FROM access_keys k"
                                      " JOIN accounts a ON a.id = k.account_id WHERE k.id = ?",
                                      {id}));
  if (rows.empty() || rows[0].Text(3) != kActive) {
    return absl::NotFoundError(fmt::format("no active access key {}", id));
  }
  ASSIGN_OR_RETURN(std::string sealed, HexDecode(rows[0].Text(2)));
  absl::StatusOr<std::string> secret = AeadOpen(impl_->master_key, sealed, id);
  if (!secret.ok()) {
    // Most likely the master key changed since the key was created.
    return absl::DataLossError(
        fmt::format("the secret of access key {} cannot be unsealed with the master key: {}", id,
                    std::string(secret.status().message())));
  }
  KeyWithSecret out{.principal = Principal{.account_id = rows[0].Text(0),
                                           .user_name = rows[0].Text(1),
                                           .is_operator = rows[0].Int(4) != 0,
                                           .access_key_id = id},
                    .secret = std::move(*secret)};
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->generation == generation) impl_->keys.emplace(id, out);
  return out;
}

absl::StatusOr<Principal> AccountService::LookupToken(std::string_view token) {
  const std::string hash = Sha256Hex(token);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (auto it = impl_->tokens.find(hash); it != impl_->tokens.end()) return it->second;
    generation = impl_->generation;
  }
  ASSIGN_OR_RETURN(SqlRows rows,
                   impl_->store.Query("SELECT t.account_id, t.user_name, a.is_operator"
                                      " FROM tokens t JOIN accounts a ON a.id = t.account_id"
                                      " WHERE t.token_hash = ? AND t.revoked = 0",
                                      {hash}));
  if (rows.empty()) return absl::NotFoundError("unknown or revoked token");
  Principal out{.account_id = rows[0].Text(0),
                .user_name = rows[0].Text(1),
                .is_operator = rows[0].Int(2) != 0,
                .access_key_id = ""};
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->generation == generation) impl_->tokens.emplace(hash, out);
  return out;
}

}  // namespace mercato::auth
