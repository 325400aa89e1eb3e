#include "auth/accounts.h"

#include <string>

#include "base/crypto.h"
#include "base/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    accounts_ = std::make_unique<AccountService>(*store_, clock_, std::string(32, 'k'));
  }

  MetadataStorePtr store_;
  ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<AccountService> accounts_;
};

bool IsTwelveDigits(const std::string& s) {
  if (s.size() != 12 || s[0] == '0') return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

TEST_F(AccountsTest, CreateAccountReturnsCredentials) {
  auto creds = accounts_->CreateAccount("alice", false);
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_TRUE(IsTwelveDigits(creds->account.id)) << creds->account.id;
  EXPECT_EQ(creds->account.name, "alice");
  EXPECT_FALSE(creds->account.is_operator);
  EXPECT_EQ(creds->account.created_at, clock_.Now());
  EXPECT_EQ(creds->access_key.key.account_id, creds->account.id);
  EXPECT_EQ(creds->access_key.key.user_name, "admin");
  EXPECT_EQ(creds->access_key.key.status, "Active");
  EXPECT_EQ(creds->access_key.key.id.substr(0, 4), "AKIA");
  EXPECT_EQ(creds->access_key.secret_access_key.size(), 40u);
  EXPECT_FALSE(creds->token.empty());

  auto got = accounts_->GetAccount(creds->account.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "alice");
  EXPECT_EQ(got->created_at, clock_.Now());

  auto key = accounts_->LookupAccessKey(creds->access_key.key.id);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->secret, creds->access_key.secret_access_key);
  EXPECT_EQ(key->principal.account_id, creds->account.id);
  EXPECT_EQ(key->principal.user_name, "admin");
  EXPECT_EQ(key->principal.access_key_id, creds->access_key.key.id);
  EXPECT_FALSE(key->principal.is_operator);

  auto principal = accounts_->LookupToken(creds->token);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->account_id, creds->account.id);
  EXPECT_TRUE(principal->access_key_id.empty());
  EXPECT_TRUE(absl::IsNotFound(accounts_->LookupToken("mct_nonsense").status()));
  EXPECT_TRUE(absl::IsNotFound(accounts_->LookupAccessKey("AKIANOTAKEY").status()));
  EXPECT_TRUE(absl::IsNotFound(accounts_->GetAccount("999999999999").status()));
}

TEST_F(AccountsTest, NamesAreValidatedAndUnique) {
  ASSERT_TRUE(accounts_->CreateAccount("a.b_c-D9", false).ok());
  auto dup = accounts_->CreateAccount("a.b_c-D9", false);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(AwsCodeOf(dup.status()), "EntityAlreadyExists");
  for (std::string bad :
       {std::string(""), std::string(65, 'x'), std::string("has space"), std::string("slash/")}) {
    EXPECT_EQ(accounts_->CreateAccount(bad, false).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(accounts_->CreateAccount(std::string(64, 'x'), false).ok());
}

TEST_F(AccountsTest, ListAndOperator) {
  auto none = accounts_->OperatorAccount();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto op = accounts_->CreateAccount("ops", true);
  ASSERT_TRUE(op.ok());
  ASSERT_TRUE(accounts_->CreateAccount("bob", false).ok());
  EXPECT_EQ(accounts_->CreateAccount("ops2", true).status().code(),
            absl::StatusCode::kAlreadyExists);

  auto found = accounts_->OperatorAccount();
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, op->account.id);
  EXPECT_TRUE((*found)->is_operator);
  EXPECT_TRUE(accounts_->LookupToken(op->token)->is_operator);

  auto list = accounts_->ListAccounts();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "bob");
  EXPECT_EQ((*list)[1].name, "ops");
}

TEST_F(AccountsTest, RevokedKeyStopsWorkingImmediately) {
  auto creds = accounts_->CreateAccount("carol", false);
  ASSERT_TRUE(creds.ok());
  const std::string first = creds->access_key.key.id;
  auto second = accounts_->CreateAccessKey(creds->account.id);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->key.id, first);

  // Warm the cache, then revoke.
  ASSERT_TRUE(accounts_->LookupAccessKey(first).ok());
  auto other = accounts_->CreateAccount("dave", false);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(absl::IsNotFound(accounts_->RevokeAccessKey(other->account.id, first)));
  ASSERT_TRUE(accounts_->LookupAccessKey(first).ok());  // still works: wrong owner
  ASSERT_TRUE(accounts_->RevokeAccessKey(creds->account.id, first).ok());
  EXPECT_TRUE(absl::IsNotFound(accounts_->LookupAccessKey(first).status()));
  EXPECT_TRUE(accounts_->LookupAccessKey(second->key.id).ok());

  auto keys = accounts_->ListAccessKeys(creds->account.id);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  for (const AccessKey& k : *keys) EXPECT_EQ(k.status, k.id == first ? "Inactive" : "Active");

  EXPECT_TRUE(absl::IsNotFound(accounts_->RevokeAccessKey(creds->account.id, "AKIANOPE")));
  EXPECT_TRUE(absl::IsNotFound(accounts_->CreateAccessKey("999999999999").status()));
  EXPECT_TRUE(absl::IsNotFound(accounts_->CreateAccessKey(creds->account.id, "nobody").status()));
}

TEST_F(AccountsTest, SecretsAreNotStoredInPlaintext) {
  auto creds = accounts_->CreateAccount("erin", false);
  ASSERT_TRUE(creds.ok());
  auto extra_token = accounts_->CreateToken(creds->account.id, "ci");
  ASSERT_TRUE(extra_token.ok());
  EXPECT_NE(*extra_token, creds->token);
  EXPECT_EQ(accounts_->LookupToken(*extra_token)->account_id, creds->account.id);

  auto keys = store_->Query("SELECT secret_sealed FROM access_keys");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  const std::string sealed = (*keys)[0].Text(0);
  EXPECT_THAT(sealed, Not(HasSubstr(creds->access_key.secret_access_key)));
  EXPECT_THAT(sealed, Not(HasSubstr(HexEncode(creds->access_key.secret_access_key))));

  auto tokens = store_->Query("SELECT token_hash, description FROM tokens ORDER BY description");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  for (const SqlRow& row : *tokens) {
    EXPECT_NE(row.Text(0), creds->token);
    EXPECT_NE(row.Text(0), *extra_token);
    EXPECT_EQ(row.Text(0).size(), 64u);
  }
  EXPECT_EQ((*tokens)[0].Text(0), Sha256Hex(*extra_token));

  // A service with another master key cannot unseal the secret.
  AccountService other(*store_, clock_, std::string(32, 'z'));
  EXPECT_EQ(other.LookupAccessKey(creds->access_key.key.id).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace mercato::auth
