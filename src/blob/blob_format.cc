#include "blob/blob_format.h"

#include <cstring>
#include <utility>

#include "base/aead.h"
#include "base/crypto.h"

namespace mercato::blob_internal {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
uint64_t GetUint(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string HeaderAad(std::string_view file_name) {
  std::string aad(kMagic);
  aad.append(file_name);
  return aad;
}

std::string ChunkAad(uint64_t index, bool final, uint64_t total_size) {
  std::string aad = "MBC1";
  PutU64(&aad, index);
  aad.push_back(final ? 1 : 0);
  PutU64(&aad, final ? total_size : 0);
  return aad;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string* s) { return reinterpret_cast<unsigned char*>(s->data()); }

}  // namespace

bool IsValidBlobId(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

BlobKeys DeriveBlobKeys(std::string_view master_key) {
  return BlobKeys{HmacSha256(master_key, "mercato/blob/wrap-key/v1"),
                  HmacSha256(master_key, "mercato/blob/name-key/v1")};
}

std::string BlobFileName(const BlobKeys& keys, std::string_view id) {
  return HexEncode(HmacSha256(keys.name_key, id));
}

std::string EncodeHeader(const BlobHeader& header, const BlobKeys& keys,
                         std::string_view file_name) {
  std::string payload;
  payload.reserve(kHeaderPayloadSize);
  payload.append(header.data_key);
  payload.append(header.nonce_prefix);
  PutU32(&payload, header.chunk_size);
  PutU64(&payload, header.size);
  payload.append(header.id_raw);
  std::string out(kMagic);
  out.append(AeadSeal(keys.wrap_key, payload, HeaderAad(file_name)));
  return out;
}

absl::StatusOr<BlobHeader> DecodeHeader(std::string_view bytes, const BlobKeys& keys,
                                        std::string_view file_name) {
  if (bytes.size() != kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("blob header is malformed");
  }
  auto payload = AeadOpen(keys.wrap_key, bytes.substr(kMagic.size()), HeaderAad(file_name));
  if (!payload.ok()) {
    return absl::DataLossError("blob header failed authentication (wrong master key or tampered)");
  }
  if (payload->size() != kHeaderPayloadSize) return absl::DataLossError("blob header is malformed");
  std::string_view p = *payload;
  BlobHeader h;
  h.data_key = std::string(p.substr(0, kDataKeySize));
  p.remove_prefix(kDataKeySize);
  h.nonce_prefix = std::string(p.substr(0, kNoncePrefixSize));
  p.remove_prefix(kNoncePrefixSize);
  h.chunk_size = static_cast<uint32_t>(GetUint(p.substr(0, 4)));
  p.remove_prefix(4);
  h.size = GetUint(p.substr(0, 8));
  p.remove_prefix(8);
  h.id_raw = std::string(p);
  if (h.chunk_size == 0 || h.chunk_size > kMaxChunkSize) {
    return absl::DataLossError("blob header has an invalid chunk size");
  }
  return h;
}

ChunkCipher::ChunkCipher(std::string data_key, std::string nonce_prefix)
    : key_(std::move(data_key)),
      nonce_prefix_(std::move(nonce_prefix)),
      ctx_(EVP_CIPHER_CTX_new()) {}

std::string ChunkCipher::Nonce(uint64_t index) const {
  std::string nonce = nonce_prefix_;
  PutU64(&nonce, index);
  return nonce;  // 12 bytes: the GCM default IV length
}

absl::Status ChunkCipher::Seal(uint64_t index, bool final, uint64_t total_size,
                               std::string_view plain, std::string* out) {
  std::string nonce = Nonce(index);
  std::string aad = ChunkAad(index, final, total_size);
  out->resize(plain.size() + kTagSize);
  int len = 0;
  int tail = 0;
  EVP_CIPHER_CTX* ctx = ctx_.get();
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, U(key_), U(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx, U(out), &len, U(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, U(out) + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, U(out) + plain.size()) != 1) {
    return absl::InternalError("AES-GCM encryption failed");
  }
  return absl::OkStatus();
}

absl::Status ChunkCipher::Open(uint64_t index, bool final, uint64_t total_size,
                               std::string_view sealed, std::string* out) {
  if (sealed.size() < kTagSize) return absl::DataLossError("blob chunk is truncated");
  size_t n = sealed.size() - kTagSize;
  std::string nonce = Nonce(index);
  std::string aad = ChunkAad(index, final, total_size);
  // The tag is copied because EVP's SET_TAG takes a non-const pointer.
  unsigned char tag[kTagSize];
  std::memcpy(tag, sealed.data() + n, kTagSize);
  out->resize(n);
  int len = 0;
  int tail = 0;
  EVP_CIPHER_CTX* ctx = ctx_.get();
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, U(key_), U(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx, U(out), &len, U(sealed), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1) {
    out->clear();
    return absl::InternalError("AES-GCM decryption failed to start");
  }
  if (EVP_DecryptFinal_ex(ctx, U(out) + len, &tail) != 1) {
    // Never hand back unauthenticated plaintext.
    out->clear();
    return absl::DataLossError(
        "blob chunk failed authentication (tampered, reordered or truncated)");
  }
  return absl::OkStatus();
}

}  // namespace mercato::blob_internal
