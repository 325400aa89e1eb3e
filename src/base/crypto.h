// Hashing, MACs, randomness and encodings used across Mercato, all thin wrappers over
// OpenSSL 3 (and zlib's CRC-32). Every function is thread-safe. Streaming hashers are
// single-owner objects: feed them with Update() and read the digest once with Final().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace mercato {

// Raw digests (binary strings).
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Md5(std::string_view data);

// Lower-case hex encoding of a binary string, and its inverse.
std::string HexEncode(std::string_view bytes);
absl::StatusOr<std::string> HexDecode(std::string_view hex);
inline std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string Base64Encode(std::string_view bytes);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

// Cryptographically secure random bytes (binary) and random lower-case hex of n bytes.
std::string RandomBytes(size_t n);
std::string RandomHex(size_t n);

// Constant-time comparison for secrets and signatures.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Incremental digests. Algorithm names: "sha256", "md5".
class Hasher {
 public:
  static std::unique_ptr<Hasher> Create(std::string_view algorithm);
  virtual ~Hasher() = default;
  virtual void Update(std::string_view data) = 0;
  // Returns the binary digest; the hasher must not be used afterwards.
  virtual std::string Final() = 0;
};

// CRC-32 (IEEE, as S3's x-amz-checksum-crc32) and CRC-32C (Castagnoli), incremental:
// crc = Crc32Update(crc, data), starting from 0.
uint32_t Crc32Update(uint32_t crc, std::string_view data);
uint32_t Crc32cUpdate(uint32_t crc, std::string_view data);
// The 4 big-endian bytes of a CRC, base64-encoded, as S3 sends checksums.
std::string CrcToBase64(uint32_t crc);

}  // namespace mercato
