#include "storage/object_store.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "api/s3/s3_api.h"
#include "auth/accounts.h"
#include "auth/authenticator.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "blob/memory_blob_store.h"
#include "gtest/gtest.h"
#include "store/sqlite_store.h"

namespace mercato::storage {
namespace {

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqliteStore::Open({.path = ":memory:"}).value());
    ASSERT_TRUE(store_
                    ->Exec("INSERT INTO buckets (name, account_id, region, created_at) "
                           "VALUES ('data', '111111111111', 'local', 0)")
                    .ok());
    ASSERT_TRUE(store_
                    ->Exec("INSERT INTO buckets (name, account_id, region, created_at) "
                           "VALUES ('other', '222222222222', 'local', 0)")
                    .ok());
    objects_ = std::make_unique<ObjectStore>(*store_, blobs_, clock_);
  }

  std::string ReadAll(std::string_view bucket, std::string_view key) {
    auto reader = objects_->Open(kAlice, bucket, key);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return "";
    std::string out;
    char buf[7];  // small buffer: exercises segment and chunk boundaries
    while (true) {
      auto n = (*reader)->Read(buf, sizeof(buf));
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      out.append(buf, *n);
    }
    return out;
  }

  static constexpr std::string_view kAlice = "111111111111";
  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  MetadataStorePtr store_;
  MemoryBlobStore blobs_;
  std::unique_ptr<ObjectStore> objects_;
};

TEST(ParseS3UriTest, Forms) {
  auto u = ObjectStore::ParseS3Uri("s3://bucket/a/b/c.csv");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->bucket, "bucket");
  EXPECT_EQ(u->key, "a/b/c.csv");
  EXPECT_EQ(u->ToString(), "s3://bucket/a/b/c.csv");
  u = ObjectStore::ParseS3Uri("s3://bucket");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->key, "");
  EXPECT_FALSE(ObjectStore::ParseS3Uri("s3:///key").ok());
  EXPECT_FALSE(ObjectStore::ParseS3Uri("https://bucket/key").ok());
}

TEST_F(ObjectStoreTest, PutWritesTheRowsS3Writes) {
  auto info = objects_->PutBytes(kAlice, "data", "dir/a.txt", "text/plain", "hello");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->etag, HexEncode(Md5("hello")));
  EXPECT_EQ(info->size, 5u);

  auto rows = store_->Query(
      "SELECT size, etag, content_type, metadata, segments, checksum, last_modified "
      "FROM objects WHERE bucket = 'data' AND object_key = 'dir/a.txt'");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  const SqlRow& r = (*rows)[0];
  EXPECT_EQ(r.Int(0), 5);
  EXPECT_EQ(r.Text(1), HexEncode(Md5("hello")));  // unquoted, as S3 stores it
  EXPECT_EQ(r.Text(2), "text/plain");
  EXPECT_EQ(r.Text(3), "{}");
  Json segments = ParseJson(r.Text(4)).value();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0]["blob"], Sha256Hex("hello"));
  EXPECT_EQ(segments[0]["size"], 5);
  EXPECT_EQ(r.Text(5), "crc32:" + CrcToBase64(Crc32Update(0, "hello")));
  EXPECT_EQ(r.Int(6), absl::ToUnixMicros(clock_.Now()));

  auto stamped =
      store_->Query("SELECT written_at FROM s3_blobs WHERE blob_id = ?", {Sha256Hex("hello")});
  ASSERT_TRUE(stamped.ok());
  ASSERT_EQ(stamped->size(), 1u);

  EXPECT_EQ(ReadAll("data", "dir/a.txt"), "hello");
}

TEST_F(ObjectStoreTest, EmptyObjectHasNoSegments) {
  ASSERT_TRUE(objects_->PutBytes(kAlice, "data", "empty", "", "").ok());
  auto rows = store_->Query("SELECT segments, content_type FROM objects WHERE object_key='empty'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Text(0), "[]");
  EXPECT_EQ((*rows)[0].Text(1), "binary/octet-stream");
  EXPECT_EQ(ReadAll("data", "empty"), "");
}

TEST_F(ObjectStoreTest, ReadsMultiSegmentObjects) {
  // As CompleteMultipartUpload leaves them: several blobs concatenated.
  std::string a = PutBlob(blobs_, "first-part|").value().id;
  std::string b = PutBlob(blobs_, "second").value().id;
  Json segs = Json::array({{{"blob", a}, {"size", 11}}, {{"blob", b}, {"size", 6}}});
  ASSERT_TRUE(store_
                  ->Exec("INSERT INTO objects VALUES ('data', 'mp', 17, 'x-2', 'a/b', '{}', ?, "
                         "'', 0)",
                         {segs.dump()})
                  .ok());
  EXPECT_EQ(ReadAll("data", "mp"), "first-part|second");
}

TEST_F(ObjectStoreTest, ListByPrefix) {
  for (const char* key : {"in/train/a.csv", "in/train/sub/b.csv", "in/trainx", "in/val/c.csv"}) {
    ASSERT_TRUE(objects_->PutBytes(kAlice, "data", key, "", key).ok());
  }
  auto list = objects_->List(kAlice, "data", "in/train");
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> keys;
  for (const auto& o : *list) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"in/train/a.csv", "in/train/sub/b.csv", "in/trainx"}));
  EXPECT_EQ((*list)[0].size, std::string("in/train/a.csv").size());
  list = objects_->List(kAlice, "data", "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 4u);
  list = objects_->List(kAlice, "data", "zzz");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(ObjectStoreTest, BucketOwnershipAndMissingKeys) {
  auto s = objects_->PutBytes(kAlice, "other", "k", "", "x").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AwsCodeOf(s), "AccessDenied");
  EXPECT_NE(s.message().find("other"), std::string_view::npos);
  s = objects_->List(kAlice, "nope", "").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AwsCodeOf(s), "NoSuchBucket");
  s = objects_->Open(kAlice, "data", "missing").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AwsCodeOf(s), "NoSuchKey");
  EXPECT_NE(s.message().find("s3://data/missing"), std::string_view::npos);
  EXPECT_FALSE(objects_->PutBytes(kAlice, "data", "", "", "x").ok());
}

TEST_F(ObjectStoreTest, PutFileAndDownload) {
  auto dir = std::filesystem::temp_directory_path() / ("objstore-" + RandomHex(6));
  std::filesystem::create_directories(dir);
  std::string big(3 << 20, 'z');  // several 1 MiB chunks
  big[12345] = 'a';
  { std::ofstream(dir / "in.bin", std::ios::binary) << big; }
  auto info = objects_->PutFile(kAlice, "data", "big.bin", "", (dir / "in.bin").string());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, big.size());
  EXPECT_EQ(info->etag, HexEncode(Md5(big)));
  ASSERT_TRUE(objects_->Download(kAlice, "data", "big.bin", (dir / "out.bin").string()).ok());
  std::ifstream in(dir / "out.bin", std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(back == big);
  EXPECT_FALSE(objects_->PutFile(kAlice, "data", "x", "", (dir / "missing").string()).ok());
  std::filesystem::remove_all(dir);
}

TEST_F(ObjectStoreTest, S3GarbageCollectorKeepsReferencedBlobsOnly) {
  auth::AccountService accounts(*store_, clock_, std::string(32, 'k'));
  auth::Authenticator authenticator(accounts, clock_);
  api::s3::S3Api s3({}, *store_, blobs_, authenticator, clock_);

  ASSERT_TRUE(objects_->PutBytes(kAlice, "data", "k", "", "version-1").ok());
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(objects_->PutBytes(kAlice, "data", "k", "", "version-2").ok());
  clock_.Advance(absl::Hours(2));
  auto stats = s3.CollectGarbage();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->deleted, 1u);  // version-1, no longer referenced
  EXPECT_FALSE(blobs_.Size(Sha256Hex("version-1")).ok());
  EXPECT_EQ(ReadAll("data", "k"), "version-2");
}

}  // namespace
}  // namespace mercato::storage
