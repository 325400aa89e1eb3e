#include "base/crypto.h"

#include "gtest/gtest.h"

namespace mercato {
namespace {

TEST(CryptoTest, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HmacKnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HexRoundTripAndErrors) {
  EXPECT_EQ(*HexDecode(HexEncode("\x01\xff\x10")), "\x01\xff\x10");
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(CryptoTest, StreamingHasherMatchesOneShot) {
  auto h = Hasher::Create("md5");
  h->Update("hello ");
  h->Update("world");
  EXPECT_EQ(h->Final(), Md5("hello world"));
}

TEST(CryptoTest, Crc32MatchesKnownValues) {
  // "123456789" check values from the CRC catalogue.
  EXPECT_EQ(Crc32Update(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32cUpdate(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32cUpdate(Crc32cUpdate(0, "1234"), "56789"), 0xE3069283u);
  EXPECT_EQ(CrcToBase64(0xCBF43926u), "y/Q5Jg==");
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace mercato
