#include "base/aead.h"

#include "base/crypto.h"
#include "gtest/gtest.h"

namespace mercato {
namespace {

TEST(AeadTest, RoundTrip) {
  std::string key = RandomBytes(kAeadKeySize);
  std::string sealed = AeadSeal(key, "secret", "aad");
  EXPECT_EQ(*AeadOpen(key, sealed, "aad"), "secret");
}

TEST(AeadTest, WrongKeyTamperAndAadFail) {
  std::string key = RandomBytes(kAeadKeySize);
  std::string sealed = AeadSeal(key, "secret", "aad");
  EXPECT_FALSE(AeadOpen(RandomBytes(kAeadKeySize), sealed, "aad").ok());
  EXPECT_FALSE(AeadOpen(key, sealed, "other").ok());
  sealed[14] ^= 1;
  EXPECT_FALSE(AeadOpen(key, sealed, "aad").ok());
  EXPECT_FALSE(AeadOpen(key, "short", "aad").ok());
}

}  // namespace
}  // namespace mercato
