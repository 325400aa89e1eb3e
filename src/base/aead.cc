#include "base/aead.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "base/crypto.h"

namespace mercato {
namespace {

const unsigned char* u(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  std::string nonce = RandomBytes(kNonce);
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  std::copy(nonce.begin(), nonce.end(), out.begin());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key), u(nonce));
  if (!aad.empty())
    EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size()));
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + kNonce);
  EVP_EncryptUpdate(ctx.get(), dst, &len, u(plaintext), static_cast<int>(plaintext.size()));
  EVP_EncryptFinal_ex(ctx.get(), dst + len, &len);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                      out.data() + kNonce + plaintext.size());
  return out;
}

absl::StatusOr<std::string> AeadOpen(std::string_view key, std::string_view sealed,
                                     std::string_view aad) {
  if (sealed.size() < kNonce + kTag || key.size() != kAeadKeySize) {
    return absl::DataLossError("sealed value is malformed");
  }
  size_t n = sealed.size() - kNonce - kTag;
  std::string out(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key), u(sealed.substr(0, kNonce)));
  if (!aad.empty())
    EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size()));
  EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                    u(sealed.substr(kNonce, n)), static_cast<int>(n));
  std::string tag(sealed.substr(kNonce + n));
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data());
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) !=
      1) {
    return absl::DataLossError("authentication failed: wrong key or tampered data");
  }
  return out;
}

absl::StatusOr<std::string> LoadOrCreateMasterKey(const std::string& data_dir,
                                                  std::string_view env_value) {
  if (!env_value.empty()) {
    if (env_value.size() == 64) {
      auto k = HexDecode(env_value);
      if (k.ok()) return *k;
    }
    auto k = Base64Decode(env_value);
    if (k.ok() && k->size() == kAeadKeySize) return *k;
    return absl::InvalidArgumentError(
        "MERCATO_MASTER_KEY must be 32 bytes as 64 hex or base64 characters");
  }
  std::string path = data_dir + "/master.key";
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    auto k = HexDecode(text);
    if (!k.ok() || k->size() != kAeadKeySize) {
      return absl::DataLossError(path + " is not a 64-hex-character key");
    }
    return *k;
  }
  std::string key = RandomBytes(kAeadKeySize);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::InternalError("cannot create " + tmp);
  std::string text = HexEncode(key) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError("cannot write " + path);
  }
  return key;
}

}  // namespace mercato
