// On-disk format of an encrypted blob file (internal to mercato_blob; LocalBlobStore is the
// only writer and reader). Everything here is pure computation and thread-safe, except
// ChunkCipher, which is a single-owner object.
//
// File layout (version 1):
//
//   magic "MERCBLB\x01" (8 bytes)
//   sealed header (108 bytes) = AeadSeal(wrap_key, payload, aad = magic || file name)
//     payload: data key (32) | nonce prefix (4) | chunk size (u32 BE) | plaintext size
//              (u64 BE) | raw SHA-256 id (32)
//   chunk 0 .. chunk N-1, each = AES-256-GCM(data key) ciphertext || 16-byte tag
//     nonce = nonce prefix || chunk index (u64 BE)
//     aad   = "MBC1" || chunk index (u64 BE) || final flag (u8) || size if final else 0 (u64 BE)
//
// Every chunk but the last holds exactly `chunk size` plaintext bytes; an empty blob has one
// empty final chunk, so N = max(1, ceil(size / chunk size)). The header is encrypted (the id
// is the plaintext hash, which must not leak) and authenticated together with the file
// name, so a header moved to another file fails. The chunk AAD makes reordering (index),
// truncation (missing final flag) and extension (final flag and size) detectable, and the
// expected file length follows from the authenticated header, so any length change is
// DataLoss before a byte is decrypted.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mercato::blob_internal {

inline constexpr std::string_view kMagic{"MERCBLB\x01", 8};
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kDataKeySize = 32;
inline constexpr size_t kNoncePrefixSize = 4;
inline constexpr size_t kIdRawSize = 32;
inline constexpr size_t kHeaderPayloadSize = kDataKeySize + kNoncePrefixSize + 4 + 8 + kIdRawSize;
// AeadSeal adds a 12-byte nonce and a 16-byte tag.
inline constexpr size_t kHeaderSize = kMagic.size() + 12 + kHeaderPayloadSize + 16;
// Upper bound on the chunk size: keeps a chunk within an int for EVP and bounds memory.
inline constexpr uint32_t kMaxChunkSize = 64u << 20;

// True for a lower-case hex SHA-256 (64 characters).
bool IsValidBlobId(std::string_view id);

// Keys derived from the master key, so each use has its own key (domain separation).
struct BlobKeys {
  std::string wrap_key;  // seals blob headers and the key-check file
  std::string name_key;  // HMAC key that turns an id into a file name
};
BlobKeys DeriveBlobKeys(std::string_view master_key);

// The file name of a blob: hex HMAC-SHA256(name_key, id). Reveals nothing about the id to
// anyone without the master key.
std::string BlobFileName(const BlobKeys& keys, std::string_view id);

struct BlobHeader {
  std::string data_key;      // kDataKeySize raw bytes
  std::string nonce_prefix;  // kNoncePrefixSize raw bytes
  uint32_t chunk_size = 0;
  uint64_t size = 0;
  std::string id_raw;  // kIdRawSize raw bytes (binary SHA-256)
};

// Returns exactly kHeaderSize bytes.
std::string EncodeHeader(const BlobHeader& header, const BlobKeys& keys,
                         std::string_view file_name);
// DataLoss if `bytes` is not a header sealed by these keys for this file name.
absl::StatusOr<BlobHeader> DecodeHeader(std::string_view bytes, const BlobKeys& keys,
                                        std::string_view file_name);

// Offsets and sizes implied by a header.
struct BlobLayout {
  uint32_t chunk_size = 1;
  uint64_t size = 0;

  uint64_t num_chunks() const { return size == 0 ? 1 : (size + chunk_size - 1) / chunk_size; }
  uint64_t chunk_plain_size(uint64_t index) const {
    return index + 1 < num_chunks() ? chunk_size : size - index * chunk_size;
  }
  uint64_t chunk_offset(uint64_t index) const {
    return kHeaderSize + index * (uint64_t{chunk_size} + kTagSize);
  }
  uint64_t file_size() const { return kHeaderSize + size + num_chunks() * kTagSize; }
};

// AES-256-GCM over the chunks of one blob. Reuses one EVP context across chunks.
class ChunkCipher {
 public:
  ChunkCipher(std::string data_key, std::string nonce_prefix);
  ChunkCipher(ChunkCipher&&) = default;
  ChunkCipher& operator=(ChunkCipher&&) = default;

  // Replaces *out with ciphertext || tag of `plain` as chunk `index`. `total_size` is
  // authenticated only for the final chunk.
  absl::Status Seal(uint64_t index, bool final, uint64_t total_size, std::string_view plain,
                    std::string* out);
  // Replaces *out with the plaintext of `sealed`; DataLoss if it fails authentication.
  absl::Status Open(uint64_t index, bool final, uint64_t total_size, std::string_view sealed,
                    std::string* out);

 private:
  struct CtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
  };
  std::string Nonce(uint64_t index) const;

  std::string key_;
  std::string nonce_prefix_;
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx_;
};

}  // namespace mercato::blob_internal
