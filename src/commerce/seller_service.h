// SellerService: seller registration and the payout details sellers are paid to.
//
// Payout details (bank account and routing number) are sealed with the master key
// (base/aead.h, AES-256-GCM, bound to the account id) before they reach the store; only
// their masks ("****6789") are kept in clear, and nothing here logs them. Registering
// again replaces the registration (same account). Errors carry a code (base/errors.h):
// InvalidArgument "InvalidEmail"/"InvalidCountry"/..., NotFound "SellerNotRegistered".
// Thread-safe; borrows the store and clock.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct SellerRegistration {
  std::string legal_name;
  std::string email;
  std::string country;  // ISO 3166-1 alpha-2 (normalized to upper case)
  std::string state;    // USPS code for the US (required there), free text elsewhere
  std::string bank_account;
  std::string bank_routing;
};

// A seller as shown to anyone, the seller included: payout details masked.
struct Seller {
  std::string account_id;
  std::string legal_name;
  std::string email;
  std::string country;
  std::string state;
  std::string bank_account_mask;
  std::string bank_routing_mask;
  absl::Time created_at;
  absl::Time updated_at;
};

// {"AccountId","LegalName","Email","Country","State","BankAccount","BankRouting",
//  "CreatedAt","UpdatedAt"} with the masks in the Bank* fields.
Json SellerJson(const Seller& seller);

// The unsealed payout details, for the payout step of the commerce issue.
struct PayoutDetails {
  std::string bank_account;
  std::string bank_routing;
};

class SellerService {
 public:
  // `master_key`: kAeadKeySize raw bytes.
  SellerService(MetadataStore& store, const Clock& clock, std::string master_key);

  // Validates and stores (or replaces) `account`'s registration.
  absl::StatusOr<Seller> Register(std::string_view account, SellerRegistration registration);
  // NotFound "SellerNotRegistered" when the account never registered.
  absl::StatusOr<Seller> Get(std::string_view account);
  // OK for registered sellers; FailedPrecondition "SellerNotRegistered" telling how to
  // register otherwise.
  absl::Status RequireSeller(std::string_view account);
  absl::StatusOr<PayoutDetails> Payout(std::string_view account);

 private:
  MetadataStore& store_;
  const Clock& clock_;
  std::string master_key_;
};

}  // namespace mercato::commerce
