#include "image/image_registry.h"

#include "blob/memory_blob_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/image_test_util.h"
#include "image/scanner.h"
#include "store/sqlite_store.h"

namespace mercato {
namespace {

using ::testing::HasSubstr;
using namespace mercato::testing;

constexpr char kAccount[] = "123456789012";
constexpr char kOther[] = "210987654321";

const std::string kPem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA1c2Vk0x9aVZyHd3k4Jm9qPz7rW2L0sYbXGmPq3+fakekeyAAAAAA\n"
    "-----END RSA PRIVATE KEY-----\n";

std::string HostileLayer() {
  return MakeTar({{.path = "usr/bin/su",
                   .data = "\x7f"
                           "ELF",
                   .mode = 04755},
                  {.path = "usr/bin/wall",
                   .data = "\x7f"
                           "ELF",
                   .mode = 02755},
                  {.path = "root/.ssh/id_rsa", .data = "junk before\n" + kPem, .mode = 0600},
                  {.path = "app/settings.py",
                   .data = "KEY = 'AKIAQWERTYUIOPASDFGH'\naws_secret_access_key = "
                           "abcdEFGHijklMNOPqrstUVWXyz0123456789ABCD\n"},
                  {.path = "app/docs.md", .data = "use AKIAIOSFODNN7EXAMPLE here"},
                  {.path = "tmp", .type = 'd', .mode = 0777},
                  {.path = "scratch", .type = 'd', .mode = 01777},
                  {.path = "dev/null", .type = 'c'},
                  {.path = "app/escape", .type = 'l', .data = "../../../etc/shadow"},
                  {.path = "app/inside", .type = 'l', .data = "../usr/bin/su"},
                  {.path = "app/abs", .type = 'l', .data = "/etc/passwd"}});
}

TEST(ScannerTest, ReportsFindingsWithPaths) {
  MemoryBlobStore blobs;
  auto clean = PutBlob(blobs, MakeTar({{.path = "ok", .data = "fine"}}));
  auto hostile = PutBlob(blobs, HostileLayer());
  ASSERT_TRUE(clean.ok() && hostile.ok());
  auto report = ScanImageLayers(blobs, {clean->id, hostile->id}, {.oversize_layer_bytes = 4096});
  ASSERT_TRUE(report.ok()) << report.status();
  std::map<std::string, std::vector<std::string>> by_rule;
  for (const auto& f : report->findings) {
    by_rule[f.rule].push_back(f.path);
    if (f.rule != "oversize-layer") {
      EXPECT_EQ(f.layer, 1) << f.rule;
    }
  }
  EXPECT_EQ(by_rule["setuid"], std::vector<std::string>{"usr/bin/su"});
  EXPECT_EQ(by_rule["setgid"], std::vector<std::string>{"usr/bin/wall"});
  EXPECT_EQ(by_rule["private-key"], std::vector<std::string>{"root/.ssh/id_rsa"});
  EXPECT_EQ(by_rule["aws-access-key-id"], std::vector<std::string>{"app/settings.py"});
  EXPECT_EQ(by_rule["aws-secret-access-key"], std::vector<std::string>{"app/settings.py"});
  EXPECT_EQ(by_rule["world-writable-dir"], std::vector<std::string>{"tmp"});
  EXPECT_EQ(by_rule["device-node"], std::vector<std::string>{"dev/null"});
  EXPECT_EQ(by_rule["symlink-escape"], std::vector<std::string>{"app/escape"});
  EXPECT_EQ(by_rule["oversize-layer"].size(), 1u);
  EXPECT_TRUE(report->blocking());
  Json j = report->ToJson();
  EXPECT_EQ(j["status"], "BLOCKED");
  EXPECT_EQ(j["summary"]["HIGH"], 3);

  auto ok = ScanImageLayers(blobs, {clean->id});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->findings.empty());
  EXPECT_EQ(ok->status(), "PASSED");
}

TEST(ScannerTest, FindsKeySplitAcrossReadChunks) {
  MemoryBlobStore blobs;
  std::string data(256 * 1024 - 10, 'x');
  data += "\n" + kPem;
  auto blob = PutBlob(blobs, MakeTar({{.path = "big.txt", .data = data}}));
  ASSERT_TRUE(blob.ok());
  auto report = ScanImageLayers(blobs, {blob->id});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].rule, "private-key");
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto reg =
        ImageRegistry::Create(*store_, blobs_, clock_, {.registry_host = "mercato.local:8600"});
    ASSERT_TRUE(reg.ok());
    registry_ = std::move(*reg);
  }
  std::string Archive(const std::vector<std::string>& layers) {
    std::string p = dir_ / ("a" + std::to_string(n_++) + ".tar");
    WriteFile(p, MakeDockerArchive({.layers = layers}));
    return p;
  }

  TempDir dir_;
  int n_ = 0;
  MemoryBlobStore blobs_;
  ManualClock clock_{absl::FromUnixSeconds(1800000000)};
  MetadataStorePtr store_;
  std::unique_ptr<ImageRegistry> registry_;
};

TEST_F(RegistryTest, PushListDescribeTagDelete) {
  auto layer = MakeTar({{.path = "bin/serve", .data = "#!/bin/sh\n", .mode = 0755}});
  auto pushed = registry_->Push(kAccount, Archive({layer}), "models/xgb:1.0");
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->image_uri, "mercato.local:8600/123456789012/models/xgb:1.0");
  EXPECT_EQ(pushed->size_bytes, layer.size());
  EXPECT_EQ(pushed->scan_status, "PASSED");

  for (const std::string& ref :
       std::vector<std::string>{"models/xgb:1.0", "models/xgb@" + pushed->digest, pushed->image_uri,
                                "localhost:8600/123456789012/models/xgb:1.0"}) {
    auto rec = registry_->Describe(kAccount, ref);
    ASSERT_TRUE(rec.ok()) << ref << ": " << rec.status();
    EXPECT_EQ(rec->digest, pushed->digest);
    EXPECT_EQ(rec->config.entrypoint, std::vector<std::string>{"/bin/serve"});
    ASSERT_EQ(rec->layers.size(), 1u);
    EXPECT_EQ(rec->layers[0].blob_id, Sha256Hex(layer));
    EXPECT_EQ(rec->created_at, clock_.Now());
  }
  EXPECT_EQ(registry_->Describe(kOther, "models/xgb:1.0").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Describe(kOther, pushed->image_uri).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Describe(kAccount, "models/xgb").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Describe(kAccount, "Bad Name").status().code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(registry_->Tag(kAccount, "models/xgb:1.0", "models/xgb:latest").ok());
  ASSERT_TRUE(registry_->Tag(kAccount, "models/xgb:1.0", "prod/xgb:stable").ok());
  auto latest = registry_->Resolve(kAccount, "models/xgb");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->tags, (std::vector<std::string>{"1.0", "latest"}));
  auto list = registry_->List(kAccount);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].repository, "models/xgb");
  EXPECT_EQ((*list)[1].image_uri, "mercato.local:8600/123456789012/prod/xgb:stable");
  EXPECT_TRUE(registry_->List(kOther)->empty());
  auto blobs = registry_->ReferencedBlobs();
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ(*blobs, std::vector<std::string>{Sha256Hex(layer)});

  ASSERT_TRUE(registry_->Delete(kAccount, "models/xgb:1.0").ok());
  EXPECT_TRUE(
      registry_->Describe(kAccount, "models/xgb@" + pushed->digest).ok());  // still "latest"
  ASSERT_TRUE(registry_->Delete(kAccount, "models/xgb:latest").ok());
  EXPECT_EQ(registry_->Describe(kAccount, "models/xgb@" + pushed->digest).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(registry_->Delete(kAccount, "prod/xgb@" + pushed->digest).ok());
  EXPECT_TRUE(registry_->List(kAccount)->empty());
  EXPECT_EQ(registry_->Delete(kAccount, "prod/xgb:stable").code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, PushScansAndStoresReport) {
  auto pushed = registry_->Push(kAccount, Archive({HostileLayer()}), "bad:1");
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->scan_status, "BLOCKED");
  auto rec = registry_->Describe(kAccount, "bad:1");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->scan_report["status"], "BLOCKED");
  bool found = false;
  for (const auto& f : rec->scan_report["findings"]) {
    found |= f["rule"] == "private-key" && f["path"] == "root/.ssh/id_rsa";
  }
  EXPECT_TRUE(found) << rec->scan_report.dump();
}

TEST_F(RegistryTest, RejectsOversizeAndBadNames) {
  auto small = ImageRegistry::Create(*store_, blobs_, clock_, {.max_image_bytes = 1000});
  ASSERT_TRUE(small.ok());
  auto big = (*small)->Push(
      kAccount, Archive({MakeTar({{.path = "f", .data = std::string(5000, 'x')}})}), "big:1");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(big.status().message(), HasSubstr("larger than the limit of 1000 bytes"));
  auto layer = MakeTar({{.path = "f", .data = "x"}});
  EXPECT_EQ(registry_->Push(kAccount, Archive({layer}), "UPPER:1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Push(kAccount, Archive({layer}), "repo@sha256:" + std::string(64, 'a'))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Push(kAccount, dir_ / "missing.tar", "repo:1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(registry_->List(kAccount)->empty());
}

TEST(ImageReferenceTest, Parses) {
  auto r = ParseImageReference("host:1/123456789012/a/b:v1", "123456789012");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->repository, "a/b");
  EXPECT_EQ(r->tag, "v1");
  r = ParseImageReference("a/b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->repository, "a/b");
  EXPECT_EQ(r->tag, "latest");
  EXPECT_FALSE(ParseImageReference("a@sha256:xyz").ok());
  EXPECT_FALSE(ParseImageReference("a:b:c").ok());
}

}  // namespace
}  // namespace mercato
