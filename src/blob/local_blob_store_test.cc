// LocalBlobStore specifics: what is on disk, tamper detection, crash recovery, key checks
// and one large streaming round trip.
#include "blob/local_blob_store.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "blob/blob_format.h"
#include "gtest/gtest.h"

namespace mercato {
namespace {

namespace fs = std::filesystem;
using blob_internal::kHeaderSize;
using blob_internal::kTagSize;

constexpr uint32_t kChunk = 64;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "local_blob_test_XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    key_ = RandomBytes(32);
    store_ = Make(key_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  BlobStorePtr Make(const std::string& key, uint32_t chunk = kChunk) {
    auto store = LocalBlobStore::Create({root_, key, chunk});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Regular files under `dir`, sorted.
  std::vector<fs::path> FilesUnder(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Stores `data` and returns the path of its one file.
  fs::path PutAndFind(const std::string& data, std::string* id) {
    auto info = PutBlob(*store_, data);
    EXPECT_TRUE(info.ok()) << info.status();
    *id = info->id;
    auto files = FilesUnder(fs::path(root_) / "blobs");
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? fs::path() : files[0];
  }

  std::string root_;
  std::string key_;
  BlobStorePtr store_;
};

TEST_F(LocalBlobStoreTest, FileLayoutAndShardedHmacName) {
  std::string id;
  fs::path file = PutAndFind(std::string(kChunk * 11 / 2, 'x'), &id);
  // 6 chunks: 5 full and a half one.
  EXPECT_EQ(fs::file_size(file), kHeaderSize + kChunk * 11 / 2 + 6 * kTagSize);
  std::string name = file.filename().string();
  EXPECT_NE(name, id);
  EXPECT_EQ(file.parent_path().filename().string(), name.substr(2, 2));
  EXPECT_EQ(file.parent_path().parent_path().filename().string(), name.substr(0, 2));
  EXPECT_TRUE(FilesUnder(fs::path(root_) / "tmp").empty());
}

TEST_F(LocalBlobStoreTest, NoPlaintextOrPlaintextHashOnDisk) {
  const std::string marker = "MERCATO-PLAINTEXT-MARKER-7f3a";
  std::string data;
  for (int i = 0; i < 20; ++i) data += marker;
  auto info = PutBlob(*store_, data);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(PutBlob(*store_, marker).ok());
  std::string raw_id = *HexDecode(info->id);
  for (const auto& path : FilesUnder(root_)) {
    std::string bytes = ReadFile(path);
    EXPECT_EQ(bytes.find(marker), std::string::npos) << path;
    EXPECT_EQ(bytes.find(info->id), std::string::npos) << path;
    EXPECT_EQ(bytes.find(raw_id), std::string::npos) << path;
    EXPECT_EQ(path.string().find(info->id.substr(0, 16)), std::string::npos) << path;
  }
}

TEST_F(LocalBlobStoreTest, EveryFlippedByteIsDataLoss) {
  std::string id;
  std::string data = std::string(kChunk * 3 + 10, 'y');
  fs::path file = PutAndFind(data, &id);
  std::string original = ReadFile(file);
  for (size_t i = 0; i < original.size(); ++i) {
    std::string bad = original;
    bad[i] ^= 0x01;
    WriteFile(file, bad);
    auto got = GetBlob(*store_, id);
    ASSERT_FALSE(got.ok()) << "flip at " << i;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << "flip at " << i;
  }
  WriteFile(file, original);
  EXPECT_EQ(*GetBlob(*store_, id), data);
}

TEST_F(LocalBlobStoreTest, TruncationAndExtensionAreDataLoss) {
  std::string id;
  fs::path file = PutAndFind(std::string(kChunk * 4, 'z'), &id);  // exact multiple
  std::string original = ReadFile(file);
  std::vector<size_t> cuts = {0,
                              1,
                              kHeaderSize - 1,
                              kHeaderSize,
                              kHeaderSize + 10,
                              kHeaderSize + 3 * (kChunk + kTagSize),
                              original.size() - 1};
  for (size_t cut : cuts) {
    WriteFile(file, original.substr(0, cut));
    EXPECT_EQ(GetBlob(*store_, id).status().code(), absl::StatusCode::kDataLoss) << cut;
  }
  for (std::string extra : {std::string(1, '\0'), std::string(kChunk + kTagSize, 'q')}) {
    WriteFile(file, original + extra);
    EXPECT_EQ(GetBlob(*store_, id).status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST_F(LocalBlobStoreTest, SwappedChunksAreDataLoss) {
  std::string id;
  std::string data;
  for (int c = 0; c < 5; ++c) data += std::string(kChunk, static_cast<char>('a' + c));
  fs::path file = PutAndFind(data, &id);
  std::string bytes = ReadFile(file);
  const size_t stride = kChunk + kTagSize;
  std::string c1 = bytes.substr(kHeaderSize + stride, stride);
  std::string c2 = bytes.substr(kHeaderSize + 2 * stride, stride);
  bytes.replace(kHeaderSize + stride, stride, c2);
  bytes.replace(kHeaderSize + 2 * stride, stride, c1);
  WriteFile(file, bytes);
  EXPECT_EQ(GetBlob(*store_, id).status().code(), absl::StatusCode::kDataLoss);
  // A read that touches only intact chunks still succeeds; one touching a swapped chunk fails.
  auto head = store_->Open(id, 0, kChunk);
  ASSERT_TRUE(head.ok());
  std::string buf(kChunk, '\0');
  EXPECT_EQ(*(*head)->Read(buf.data(), buf.size()), kChunk);
  EXPECT_EQ(buf, data.substr(0, kChunk));
  auto mid = store_->Open(id, kChunk + 5, 10);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ((*mid)->Read(buf.data(), buf.size()).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*mid)->Read(buf.data(), buf.size()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(LocalBlobStoreTest, FileMovedToAnotherBlobsNameIsDataLoss) {
  auto a = PutBlob(*store_, "blob a");
  auto b = PutBlob(*store_, "blob b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto files = FilesUnder(fs::path(root_) / "blobs");
  ASSERT_EQ(files.size(), 2u);
  std::string first = ReadFile(files[0]);
  WriteFile(files[1], first);
  int failures = 0;
  for (const auto& id : {a->id, b->id}) {
    auto got = GetBlob(*store_, id);
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
      ++failures;
    }
  }
  EXPECT_EQ(failures, 1);
}

TEST_F(LocalBlobStoreTest, WrongMasterKeyIsDataLoss) {
  auto info = PutBlob(*store_, "secret model weights");
  ASSERT_TRUE(info.ok());
  std::string wrong = RandomBytes(32);
  // The store refuses to start with another key.
  auto refused = LocalBlobStore::Create({root_, wrong, kChunk});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);

  // Without the key check, the blob file itself still cannot be read with the wrong key.
  fs::remove(fs::path(root_) / "key-check");
  BlobStorePtr wrong_store = Make(wrong);
  ASSERT_NE(wrong_store, nullptr);
  EXPECT_EQ(wrong_store->Open(info->id).status().code(), absl::StatusCode::kNotFound);
  auto files = FilesUnder(fs::path(root_) / "blobs");
  ASSERT_EQ(files.size(), 1u);
  std::string name = blob_internal::BlobFileName(blob_internal::DeriveBlobKeys(wrong), info->id);
  fs::path dir = fs::path(root_) / "blobs" / name.substr(0, 2) / name.substr(2, 2);
  fs::create_directories(dir);
  fs::copy_file(files[0], dir / name);
  EXPECT_EQ(wrong_store->Open(info->id).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(wrong_store->Size(info->id).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(wrong_store->List()->empty());  // unreadable headers are skipped
}

TEST_F(LocalBlobStoreTest, AbandonedWriterRemovesItsTempFile) {
  {
    auto writer = store_->NewWriter();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(std::string(kChunk * 3, 'w')).ok());
    EXPECT_EQ(FilesUnder(fs::path(root_) / "tmp").size(), 1u);
  }
  EXPECT_TRUE(FilesUnder(fs::path(root_) / "tmp").empty());
  EXPECT_TRUE(FilesUnder(fs::path(root_) / "blobs").empty());
}

TEST_F(LocalBlobStoreTest, DedupKeepsOneFile) {
  ASSERT_TRUE(PutBlob(*store_, "twice").ok());
  ASSERT_TRUE(PutBlob(*store_, "twice").ok());
  EXPECT_EQ(FilesUnder(fs::path(root_) / "blobs").size(), 1u);
  EXPECT_TRUE(FilesUnder(fs::path(root_) / "tmp").empty());
}

TEST_F(LocalBlobStoreTest, CreateRemovesLeftoverTempFilesAndKeepsBlobs) {
  auto info = PutBlob(*store_, "survives restart");
  ASSERT_TRUE(info.ok());
  // Simulate a crash mid-write: a writer's temp file is left behind.
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("half written").ok());
  WriteFile(fs::path(root_) / "tmp" / "stale.tmp", "garbage");
  store_ = Make(key_);
  ASSERT_NE(store_, nullptr);
  EXPECT_TRUE(FilesUnder(fs::path(root_) / "tmp").empty());
  EXPECT_EQ(*GetBlob(*store_, info->id), "survives restart");
  EXPECT_EQ(*store_->List(), std::vector<std::string>{info->id});
  writer->reset();  // destroying the old writer after recovery is harmless
}

TEST_F(LocalBlobStoreTest, ChunkSizeIsPerBlob) {
  std::string data = std::string(1000, 'c');
  auto info = PutBlob(*store_, data);
  ASSERT_TRUE(info.ok());
  store_ = Make(key_, 300);  // a different chunk size for new blobs
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(*GetBlob(*store_, info->id), data);
}

TEST_F(LocalBlobStoreTest, RejectsBadOptions) {
  EXPECT_EQ(LocalBlobStore::Create({root_, "short", kChunk}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalBlobStore::Create({root_, key_, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalBlobStore::Create({"", key_, kChunk}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The one large test: 64 MiB through the default 1 MiB chunks, streamed both ways.
TEST_F(LocalBlobStoreTest, StreamingRoundTrip64MiB) {
  store_ = Make(key_, 1u << 20);
  ASSERT_NE(store_, nullptr);
  constexpr uint64_t kTotal = 64ull << 20;
  std::mt19937_64 rng(42);
  std::string piece;
  auto writer = store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  auto hasher = Hasher::Create("sha256");
  uint64_t written = 0;
  while (written < kTotal) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kTotal - written, 777777));
    piece.resize(n);
    for (size_t i = 0; i + 8 <= n; i += 8) {
      uint64_t v = rng();
      std::memcpy(piece.data() + i, &v, 8);
    }
    hasher->Update(piece);
    ASSERT_TRUE((*writer)->Write(piece).ok());
    written += n;
  }
  std::string want = HexEncode(hasher->Final());
  auto info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, want);
  EXPECT_EQ(info->size, kTotal);
  EXPECT_EQ(fs::file_size(FilesUnder(fs::path(root_) / "blobs")[0]),
            kHeaderSize + kTotal + 64 * kTagSize);

  auto reader = store_->Open(info->id);
  ASSERT_TRUE(reader.ok());
  auto read_hasher = Hasher::Create("sha256");
  std::string buf(300007, '\0');
  uint64_t total = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status();
    if (*n == 0) break;
    read_hasher->Update(std::string_view(buf.data(), *n));
    total += *n;
  }
  EXPECT_EQ(total, kTotal);
  EXPECT_EQ(HexEncode(read_hasher->Final()), want);
}

}  // namespace
}  // namespace mercato
