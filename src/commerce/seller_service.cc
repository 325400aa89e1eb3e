#include "commerce/seller_service.h"

#include <algorithm>
#include <cctype>

#include "base/aead.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "commerce/seller_validation.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

constexpr char kColumns[] =
    "account_id, legal_name, email, country, state, bank_account_mask, bank_routing_mask,"
    " created_at, updated_at";

std::string Aad(std::string_view account) { return "seller-payout:" + std::string(account); }

std::string Trim(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c); };
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), space));
  s.erase(std::find_if_not(s.rbegin(), s.rend(), space).base(), s.end());
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Seller FromRow(const SqlRow& r) {
  return Seller{.account_id = r.Text(0),
                .legal_name = r.Text(1),
                .email = r.Text(2),
                .country = r.Text(3),
                .state = r.Text(4),
                .bank_account_mask = r.Text(5),
                .bank_routing_mask = r.Text(6),
                .created_at = absl::FromUnixMicros(r.Int(7)),
                .updated_at = absl::FromUnixMicros(r.Int(8))};
}

absl::Status NotRegistered(absl::StatusCode code, std::string_view account) {
  return AwsError(code, "SellerNotRegistered",
                  fmt::format("Account {} is not registered as a seller. Register first with "
                              "`mercato seller register --legal-name NAME --email EMAIL --country "
                              "CC [--state ST] --bank-account NUMBER --bank-routing NUMBER`.",
                              account));
}

}  // namespace

Json SellerJson(const Seller& s) {
  return Json{{"AccountId", s.account_id},
              {"LegalName", s.legal_name},
              {"Email", s.email},
              {"Country", s.country},
              {"State", s.state},
              {"BankAccount", s.bank_account_mask},
              {"BankRouting", s.bank_routing_mask},
              {"CreatedAt", FormatIso8601(s.created_at)},
              {"UpdatedAt", FormatIso8601(s.updated_at)}};
}

SellerService::SellerService(MetadataStore& store, const Clock& clock, std::string master_key)
    : store_(store), clock_(clock), master_key_(std::move(master_key)) {}

absl::StatusOr<Seller> SellerService::Register(std::string_view account, SellerRegistration r) {
  r.legal_name = Trim(r.legal_name);
  r.email = Trim(r.email);
  r.country = Upper(Trim(r.country));
  r.state = Trim(r.state);
  if (r.country == "US") r.state = Upper(r.state);
  r.bank_account = Trim(r.bank_account);
  r.bank_routing = Trim(r.bank_routing);
  RETURN_IF_ERROR(ValidateLegalName(r.legal_name));
  RETURN_IF_ERROR(ValidateEmail(r.email));
  RETURN_IF_ERROR(ValidateCountryAndState(r.country, r.state));
  RETURN_IF_ERROR(ValidateBankAccount(r.bank_account));
  RETURN_IF_ERROR(ValidateBankRouting(r.bank_routing, r.country));

  Json payout{{"BankAccount", r.bank_account}, {"BankRouting", r.bank_routing}};
  std::string sealed = Base64Encode(AeadSeal(master_key_, payout.dump(), Aad(account)));
  int64_t now = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(
      store_
          .Exec("INSERT INTO sellers (account_id, legal_name, email, country, state,"
                " payout_sealed, bank_account_mask, bank_routing_mask, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET"
                " legal_name = excluded.legal_name, email = excluded.email,"
                " country = excluded.country, state = excluded.state,"
                " payout_sealed = excluded.payout_sealed,"
                " bank_account_mask = excluded.bank_account_mask,"
                " bank_routing_mask = excluded.bank_routing_mask, updated_at = excluded.updated_at",
                {std::string(account), r.legal_name, r.email, r.country, r.state, sealed,
                 MaskSecret(r.bank_account), MaskSecret(r.bank_routing), now, now})
          .status());
  return Get(account);
}

absl::StatusOr<Seller> SellerService::Get(std::string_view account) {
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query(fmt::format("SELECT {} FROM sellers WHERE account_id = ?", kColumns),
                   {std::string(account)}));
  if (rows.empty()) return NotRegistered(absl::StatusCode::kNotFound, account);
  return FromRow(rows[0]);
}

absl::Status SellerService::RequireSeller(std::string_view account) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT 1 FROM sellers WHERE account_id = ?",
                                              {std::string(account)}));
  if (rows.empty()) return NotRegistered(absl::StatusCode::kFailedPrecondition, account);
  return absl::OkStatus();
}

absl::StatusOr<PayoutDetails> SellerService::Payout(std::string_view account) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT payout_sealed FROM sellers WHERE account_id = ?",
                                {std::string(account)}));
  if (rows.empty()) return NotRegistered(absl::StatusCode::kNotFound, account);
  ASSIGN_OR_RETURN(std::string sealed, Base64Decode(rows[0].Text(0)));
  ASSIGN_OR_RETURN(std::string plain, AeadOpen(master_key_, sealed, Aad(account)));
  ASSIGN_OR_RETURN(Json j, ParseJson(plain));
  return PayoutDetails{j.value("BankAccount", ""), j.value("BankRouting", "")};
}

}  // namespace mercato::commerce
