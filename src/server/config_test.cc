#include "server/config.h"

#include <fstream>

#include "gtest/gtest.h"

namespace mercato::server {
namespace {

TEST(ConfigTest, DefaultsEnvAndFlags) {
  auto c = ParseConfig({"mercatod"}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listen, "127.0.0.1:8600");
  EXPECT_EQ(c->region, "local");
  EXPECT_EQ(c->port(), 8600);

  c = ParseConfig({"mercatod"}, {{"MERCATO_LISTEN", "127.0.0.1:0"}, {"MERCATO_REGION", "eu"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port(), 0);
  EXPECT_EQ(c->region, "eu");

  c = ParseConfig({"mercatod", "--listen", "127.0.0.1:9000", "--data-dir", "/tmp/x"},
                  {{"MERCATO_LISTEN", "127.0.0.1:0"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port(), 9000);
  EXPECT_EQ(c->data_dir, "/tmp/x");
}

TEST(ConfigTest, ConfigFileIsOverriddenByEnv) {
  std::string path = ::testing::TempDir() + "/mercato-config.json";
  std::ofstream(path) << R"({"region": "from-file", "listen": "127.0.0.1:7000"})";
  auto c = ParseConfig({"mercatod", "--config", path}, {{"MERCATO_REGION", "from-env"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->region, "from-env");
  EXPECT_EQ(c->port(), 7000);
}

TEST(ConfigTest, BadInputIsAClearError) {
  EXPECT_FALSE(ParseConfig({"mercatod", "--listen", "nonsense"}, {}).ok());
  EXPECT_FALSE(ParseConfig({"mercatod", "--listen", "127.0.0.1:99999"}, {}).ok());
  EXPECT_FALSE(ParseConfig({"mercatod", "--no-such-flag"}, {}).ok());
  EXPECT_FALSE(ParseConfig({"mercatod", "--tls-cert", "a.pem"}, {}).ok());
  EXPECT_FALSE(ParseConfig({"mercatod", "--config", "/nonexistent/x.json"}, {}).ok());
  EXPECT_EQ(ParseConfig({"mercatod", "--help"}, {}).status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace mercato::server
