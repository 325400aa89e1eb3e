#include "base/ids.h"

#include "gtest/gtest.h"

namespace mercato {
namespace {

TEST(IdsTest, AccountIdIsTwelveDigits) {
  for (int i = 0; i < 100; ++i) {
    std::string id = NewAccountId();
    ASSERT_EQ(id.size(), 12u);
    EXPECT_NE(id[0], '0');
    for (char c : id) EXPECT_TRUE(c >= '0' && c <= '9');
  }
}

TEST(IdsTest, KeysHaveAwsShapes) {
  EXPECT_EQ(NewAccessKeyId().substr(0, 4), "AKIA");
  EXPECT_EQ(NewAccessKeyId().size(), 20u);
  EXPECT_EQ(NewSecretAccessKey().size(), 40u);
  EXPECT_NE(NewToken(), NewToken());
}

TEST(IdsTest, ResourceNames) {
  EXPECT_TRUE(IsValidResourceName("my-model-1"));
  EXPECT_TRUE(IsValidResourceName("a"));
  EXPECT_TRUE(IsValidResourceName("a--b"));
  EXPECT_FALSE(IsValidResourceName(""));
  EXPECT_FALSE(IsValidResourceName("-a"));
  EXPECT_FALSE(IsValidResourceName("a-"));
  EXPECT_FALSE(IsValidResourceName("a_b"));
  EXPECT_FALSE(IsValidResourceName(std::string(64, 'a')));
  EXPECT_EQ(MakeArn("sagemaker", "local", "123456789012", "model", "m"),
            "arn:aws:sagemaker:local:123456789012:model/m");
}

}  // namespace
}  // namespace mercato
