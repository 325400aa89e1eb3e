// AccountService: accounts, users, access keys and bearer tokens, stored in the
// MetadataStore.
//
// Access-key secrets are needed in plaintext to verify SigV4, so they are stored sealed
// with the master key (base/aead.h) and shown to the caller once, at creation. Bearer
// tokens are stored only as their SHA-256. Lookups used on every request (access key,
// token) are cached in memory and invalidated on revocation.
// Thread-safe. Borrows the store and clock, which must outlive it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "store/metadata_store.h"

namespace mercato::auth {

struct Account {
  std::string id;  // 12 digits
  std::string name;
  bool is_operator = false;
  absl::Time created_at;
};

struct AccessKey {
  std::string id;
  std::string account_id;
  std::string user_name;
  std::string status;  // "Active" | "Inactive"
  absl::Time created_at;
};

// Returned once when a key is created; the secret is never shown again.
struct NewAccessKey {
  AccessKey key;
  std::string secret_access_key;
};

// Who is calling.
struct Principal {
  std::string account_id;
  std::string user_name;
  bool is_operator = false;
  std::string access_key_id;  // empty for bearer tokens
};

// Everything `mercato account create` prints.
struct NewAccountCredentials {
  Account account;
  NewAccessKey access_key;
  std::string token;
};

class AccountService {
 public:
  AccountService(MetadataStore& store, const Clock& clock, std::string master_key);
  ~AccountService();

  // Creates an account with a default user "admin", one access key and one token, in
  // one transaction. Name: 1-64 of [A-Za-z0-9._-]; AlreadyExists if taken.
  absl::StatusOr<NewAccountCredentials> CreateAccount(std::string_view name, bool is_operator);
  absl::StatusOr<Account> GetAccount(std::string_view account_id);
  absl::StatusOr<std::vector<Account>> ListAccounts();
  // The operator account, if one exists.
  absl::StatusOr<std::optional<Account>> OperatorAccount();

  absl::StatusOr<NewAccessKey> CreateAccessKey(std::string_view account_id,
                                               std::string_view user_name = "admin");
  absl::StatusOr<std::vector<AccessKey>> ListAccessKeys(std::string_view account_id);
  // NotFound unless the key belongs to the account. Revoked keys stop working at once.
  absl::Status RevokeAccessKey(std::string_view account_id, std::string_view key_id);

  absl::StatusOr<std::string> CreateToken(std::string_view account_id,
                                          std::string_view description = "");

  // For authentication. NotFound for unknown or inactive keys/tokens.
  struct KeyWithSecret {
    Principal principal;
    std::string secret;
  };
  absl::StatusOr<KeyWithSecret> LookupAccessKey(std::string_view key_id);
  absl::StatusOr<Principal> LookupToken(std::string_view token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mercato::auth
