// Authenticated encryption of small secrets (access-key secrets, payout details, wrapped
// data keys) with AES-256-GCM, and the master key that protects everything at rest.
// Sealed format: 12-byte random nonce || ciphertext || 16-byte tag. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace mercato {

inline constexpr size_t kAeadKeySize = 32;

// `key` must be kAeadKeySize bytes. `aad` is bound to the ciphertext but not stored.
std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad = {});
// DataLoss if the key is wrong or any byte was changed.
absl::StatusOr<std::string> AeadOpen(std::string_view key, std::string_view sealed,
                                     std::string_view aad = {});

// The master key: from `env_value` (64 hex characters or 44 base64 characters) if
// non-empty, else from `DIR/master.key`, which is created (32 random bytes, mode 0600)
// on first start. Returns the 32 raw bytes.
absl::StatusOr<std::string> LoadOrCreateMasterKey(const std::string& data_dir,
                                                  std::string_view env_value);

}  // namespace mercato
