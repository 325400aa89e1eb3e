#include "base/ids.h"

#include "base/crypto.h"
#include "fmt/format.h"

namespace mercato {
namespace {

std::string FromAlphabet(std::string_view alphabet, size_t n) {
  std::string raw = RandomBytes(n);
  std::string out(n, '\0');
  // Rejection-free modulo is fine here: alphabets are powers of two or the bias is
  // irrelevant for identifiers that are not secrets.
  for (size_t i = 0; i < n; ++i)
    out[i] = alphabet[static_cast<unsigned char>(raw[i]) % alphabet.size()];
  return out;
}

}  // namespace

std::string NewAccountId() {
  std::string id = FromAlphabet("0123456789", 12);
  if (id[0] == '0') id[0] = '1' + (static_cast<unsigned char>(RandomBytes(1)[0]) % 9);
  return id;
}

std::string NewAccessKeyId() {
  return "AKIA" + FromAlphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
}

std::string NewSecretAccessKey() {
  return FromAlphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
}

std::string NewToken() { return "mct_" + RandomHex(24); }

std::string NewId(std::string_view prefix) { return std::string(prefix) + RandomHex(12); }

std::string MakeArn(std::string_view service, std::string_view region, std::string_view account,
                    std::string_view type, std::string_view name) {
  return fmt::format("arn:aws:{}:{}:{}:{}/{}", service, region, account, type, name);
}

bool IsValidResourceName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace mercato
