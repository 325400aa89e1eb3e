// Behaviour every BlobStore must have, run against LocalBlobStore (with a tiny chunk size so
// multi-chunk paths are cheap) and the MemoryBlobStore fake.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/crypto.h"
#include "blob/blob_store.h"
#include "blob/local_blob_store.h"
#include "blob/memory_blob_store.h"
#include "gtest/gtest.h"

namespace mercato {
namespace {

constexpr uint32_t kChunk = 64;

std::string Pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Reads a whole reader using reads of at most `step` bytes.
std::string ReadAll(BlobReader& reader, size_t step) {
  std::string out;
  std::string buf(step, '\0');
  for (int guard = 0; guard < 1000000; ++guard) {
    auto n = reader.Read(buf.data(), buf.size());
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

struct LocalFactory {
  std::string root;
  LocalFactory() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "blob_test_XXXXXX").string();
    root = mkdtemp(tmpl.data());
  }
  ~LocalFactory() { std::filesystem::remove_all(root); }
  BlobStorePtr Make() {
    LocalBlobStoreOptions options;
    options.root = root;
    options.master_key = std::string(32, 'k');
    options.chunk_size = kChunk;
    auto store = LocalBlobStore::Create(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }
};

struct MemoryFactory {
  BlobStorePtr Make() { return std::make_unique<MemoryBlobStore>(); }
};

template <typename Factory>
class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = factory_.Make(); }
  Factory factory_;
  BlobStorePtr store_;
};

using Factories = ::testing::Types<LocalFactory, MemoryFactory>;
TYPED_TEST_SUITE(BlobStoreTest, Factories);

TYPED_TEST(BlobStoreTest, RoundTripsSmallEmptyAndMultiChunk) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5}, size_t{kChunk - 1}, size_t{kChunk},
                      size_t{kChunk + 1}, size_t{kChunk * 11 / 2}, size_t{kChunk * 6}}) {
    std::string data = Pattern(size, static_cast<uint32_t>(size));
    auto info = PutBlob(*this->store_, data);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->id, Sha256Hex(data));
    EXPECT_EQ(info->size, size);
    auto back = GetBlob(*this->store_, info->id);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, data) << "size " << size;
    EXPECT_EQ(*this->store_->Size(info->id), size);
  }
}

TYPED_TEST(BlobStoreTest, StreamsInOddPieces) {
  std::string data = Pattern(kChunk * 11 / 2);
  auto writer = this->store_->NewWriter();
  ASSERT_TRUE(writer.ok());
  for (size_t pos = 0; pos < data.size(); pos += 7) {
    ASSERT_TRUE((*writer)->Write(std::string_view(data).substr(pos, 7)).ok());
  }
  EXPECT_EQ((*writer)->bytes_written(), data.size());
  auto info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ((*writer)->Write("x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit().status().code(), absl::StatusCode::kFailedPrecondition);
  auto reader = this->store_->Open(info->id);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(**reader, 5), data);
}

TYPED_TEST(BlobStoreTest, RangeReadsAtAndInsideChunkBoundaries) {
  std::string data = Pattern(kChunk * 11 / 2);  // 5.5 chunks
  auto info = PutBlob(*this->store_, data);
  ASSERT_TRUE(info.ok());
  std::vector<uint64_t> offsets = {
      0,          1,          kChunk - 1,      kChunk,     kChunk + 1, 2 * kChunk - 1,
      3 * kChunk, 5 * kChunk, data.size() - 1, data.size()};
  std::vector<std::optional<uint64_t>> lengths = {
      0, 1, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 3, 100000, std::nullopt};
  for (uint64_t offset : offsets) {
    for (auto length : lengths) {
      for (size_t step : {size_t{1}, size_t{13}, size_t{1000}}) {
        auto reader = this->store_->Open(info->id, offset, length);
        ASSERT_TRUE(reader.ok()) << reader.status();
        std::string want = data.substr(offset, length.value_or(std::string::npos));
        EXPECT_EQ((*reader)->size(), want.size());
        EXPECT_EQ(ReadAll(**reader, step), want)
            << "offset " << offset << " length " << length.value_or(-1) << " step " << step;
      }
    }
  }
  EXPECT_EQ(this->store_->Open(info->id, data.size() + 1).status().code(),
            absl::StatusCode::kOutOfRange);
}

TYPED_TEST(BlobStoreTest, MissingAndMalformedIds) {
  std::string absent = Sha256Hex("never stored");
  EXPECT_EQ(this->store_->Open(absent).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Size(absent).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(this->store_->Delete(absent).ok());
  for (std::string bad : std::vector<std::string>{"", "abc", "../../etc/passwd",
                                                  std::string(64, 'G'), std::string(64, 'A')}) {
    EXPECT_EQ(this->store_->Open(bad).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(this->store_->Delete(bad).code(), absl::StatusCode::kInvalidArgument);
  }
}

TYPED_TEST(BlobStoreTest, DedupDeleteAndList) {
  auto a1 = PutBlob(*this->store_, "same bytes");
  auto a2 = PutBlob(*this->store_, "same bytes");
  auto b = PutBlob(*this->store_, "other bytes");
  ASSERT_TRUE(a1.ok() && a2.ok() && b.ok());
  EXPECT_EQ(a1->id, a2->id);
  std::vector<std::string> want = {a1->id, b->id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*this->store_->List(), want);

  EXPECT_TRUE(this->store_->Delete(a1->id).ok());
  EXPECT_TRUE(this->store_->Delete(a1->id).ok());  // idempotent
  EXPECT_EQ(this->store_->Size(a1->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*this->store_->List(), std::vector<std::string>{b->id});
  EXPECT_EQ(*GetBlob(*this->store_, b->id), "other bytes");
}

TYPED_TEST(BlobStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto writer = this->store_->NewWriter();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(Pattern(kChunk * 3)).ok());
  }
  EXPECT_TRUE(this->store_->List()->empty());
  EXPECT_EQ(this->store_->Size(Sha256Hex(Pattern(kChunk * 3))).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(BlobStoreTest, OpenReaderSurvivesDelete) {
  std::string data = Pattern(kChunk * 3 + 9);
  auto info = PutBlob(*this->store_, data);
  ASSERT_TRUE(info.ok());
  auto reader = this->store_->Open(info->id);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(this->store_->Delete(info->id).ok());
  EXPECT_EQ(ReadAll(**reader, 10), data);
}

TYPED_TEST(BlobStoreTest, ConcurrentWriters) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 8;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Even i: content every thread writes; odd i: content only this thread writes.
        uint32_t seed = i % 2 == 0 ? i : 1000 + t * kPerThread + i;
        auto info = PutBlob(*this->store_, Pattern(kChunk * 2 + seed % 50, seed));
        EXPECT_TRUE(info.ok()) << info.status();
        if (info.ok()) ids[t].push_back(info->id);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> distinct;
  for (const auto& v : ids) distinct.insert(v.begin(), v.end());
  EXPECT_EQ(distinct.size(), size_t{kPerThread / 2 + kThreads * kPerThread / 2});
  auto listed = this->store_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(std::set<std::string>(listed->begin(), listed->end()), distinct);
  for (const auto& id : distinct) {
    auto data = GetBlob(*this->store_, id);
    ASSERT_TRUE(data.ok()) << data.status();
    EXPECT_EQ(Sha256Hex(*data), id);
  }
}

}  // namespace
}  // namespace mercato
