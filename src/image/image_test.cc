#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "blob/memory_blob_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/image_archive.h"
#include "image/image_builder.h"
#include "image/image_test_util.h"
#include "image/rootfs_cache.h"

namespace mercato {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace mercato::testing;

// Two layers exercising files, symlinks, hard links, whiteouts and an opaque directory.
std::vector<std::string> TwoLayers(bool gzip) {
  std::string l1 = MakeTar({{.path = "bin", .type = 'd', .mode = 0755},
                            {.path = "bin/tool", .data = "#!/bin/sh\necho tool\n", .mode = 0755},
                            {.path = "bin/link", .type = 'l', .data = "tool"},
                            {.path = "bin/hard", .type = 'h', .data = "bin/tool"},
                            {.path = "bin/abs", .type = 'l', .data = "/bin/tool"},
                            {.path = "etc/config", .data = "v1"},
                            {.path = "data", .type = 'd', .mode = 0755},
                            {.path = "data/old1", .data = "old"},
                            {.path = "data/sub/old2", .data = "old"},
                            {.path = "gone", .data = "bye"},
                            {.path = "su", .data = "x", .mode = 04755}},
                           gzip);
  std::string l2 = MakeTar({{.path = "etc/config", .data = "v2"},
                            {.path = ".wh.gone", .data = ""},
                            {.path = "data/new", .data = "new"},
                            {.path = "data/.wh..wh..opq", .data = ""},
                            {.path = "dev0", .type = 'c'}},
                           gzip);
  return {l1, l2};
}

void ExpectUnpacked(const std::string& root) {
  EXPECT_EQ(ReadFileOrEmpty(root + "/bin/tool"), "#!/bin/sh\necho tool\n");
  EXPECT_EQ(fs::read_symlink(root + "/bin/link"), "tool");
  EXPECT_EQ(fs::read_symlink(root + "/bin/abs"), "/bin/tool");
  struct stat a, b;
  ASSERT_EQ(stat((root + "/bin/tool").c_str(), &a), 0);
  ASSERT_EQ(stat((root + "/bin/hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 0777, 0755u);
  EXPECT_EQ(ReadFileOrEmpty(root + "/etc/config"), "v2");
  EXPECT_FALSE(fs::exists(root + "/gone"));
  EXPECT_FALSE(fs::exists(root + "/.wh.gone"));
  EXPECT_EQ(ReadFileOrEmpty(root + "/data/new"), "new");
  EXPECT_FALSE(fs::exists(root + "/data/old1"));
  EXPECT_FALSE(fs::exists(root + "/data/sub"));
  EXPECT_FALSE(fs::exists(root + "/data/.wh..wh..opq"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/dev0")));
  struct stat su;
  ASSERT_EQ(stat((root + "/su").c_str(), &su), 0);
  EXPECT_EQ(su.st_mode & 07000, 0u) << "setuid must be stripped";
}

std::vector<std::string> BlobIds(const IngestedImage& img) {
  std::vector<std::string> ids;
  for (const auto& l : img.layers) ids.push_back(l.blob_id);
  return ids;
}

class ImageTest : public ::testing::Test {
 protected:
  std::string Archive(const std::string& bytes) {
    std::string p = dir_ / ("archive" + std::to_string(n_++) + ".tar");
    WriteFile(p, bytes);
    return p;
  }
  absl::StatusOr<std::string> Unpack(const IngestedImage& img) {
    auto cache = RootfsCache::Create(blobs_, {.cache_dir = cache_dir_});
    if (!cache.ok()) return cache.status();
    return (*cache)->GetRootfs(img.manifest_digest, BlobIds(img));
  }
  // Nothing may ever be written outside the cache dir.
  void ExpectCanaryUntouched() {
    EXPECT_TRUE(fs::is_empty(canary_)) << "something escaped into the canary dir";
    for (const auto& e : fs::directory_iterator(cache_dir_)) {
      EXPECT_FALSE(e.path().filename().string().starts_with(".tmp-")) << e.path();
    }
  }
  void SetUp() override {
    fs::create_directories(canary_);
    fs::create_directories(cache_dir_);
  }

  TempDir dir_;
  std::string canary_ = dir_ / "canary";
  std::string cache_dir_ = dir_ / "cache";
  MemoryBlobStore blobs_;
  int n_ = 0;
};

TEST_F(ImageTest, DockerSaveArchiveIngestsAndUnpacks) {
  auto layers = TwoLayers(false);
  auto img = IngestImageArchive(Archive(MakeDockerArchive({.layers = layers})), blobs_);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->format, "docker-archive");
  ASSERT_EQ(img->layers.size(), 2u);
  EXPECT_EQ(img->layers[0].diff_id, Digest(layers[0]));
  EXPECT_EQ(img->layers[0].blob_id, Sha256Hex(layers[0]));
  EXPECT_EQ(img->layers[1].size, layers[1].size());
  EXPECT_EQ(img->size_bytes, layers[0].size() + layers[1].size());
  EXPECT_EQ(img->config.entrypoint, std::vector<std::string>{"/bin/serve"});
  EXPECT_EQ(img->config.env[1], "MODE=test");
  EXPECT_EQ(img->config.working_dir, "/opt/ml");
  EXPECT_EQ(img->config.exposed_ports, std::vector<std::string>{"8080/tcp"});
  EXPECT_EQ(img->ref_names, std::vector<std::string>{"demo:1"});
  EXPECT_EQ(img->manifest_digest, Digest(img->manifest_json));
  auto root = Unpack(*img);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root, cache_dir_ + "/sha256-" + img->manifest_digest.substr(7) + "/rootfs");
  ExpectUnpacked(*root);
  ExpectCanaryUntouched();
}

TEST_F(ImageTest, DockerSaveWithGzipLayers) {
  auto img = IngestImageArchive(Archive(MakeDockerArchive({.layers = TwoLayers(true)})), blobs_);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  auto root = Unpack(*img);
  ASSERT_TRUE(root.ok()) << root.status();
  ExpectUnpacked(*root);
}

TEST_F(ImageTest, OciArchiveIngestsAndUnpacks) {
  auto layers = TwoLayers(true);
  auto img = IngestImageArchive(Archive(MakeOciArchive({.layers = layers})), blobs_);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->format, "oci-archive");
  EXPECT_EQ(img->layers[0].digest, Digest(layers[0]));
  EXPECT_EQ(img->layers[0].compressed_size, layers[0].size());
  EXPECT_EQ(img->layers[0].diff_id, Digest(Gunzip(layers[0])));
  EXPECT_EQ(img->config.cmd, std::vector<std::string>{"serve"});
  auto root = Unpack(*img);
  ASSERT_TRUE(root.ok()) << root.status();
  ExpectUnpacked(*root);
  ExpectCanaryUntouched();
}

TEST_F(ImageTest, ConcurrentRequestsUnpackOnce) {
  auto img = IngestImageArchive(Archive(MakeOciArchive({.layers = TwoLayers(true)})), blobs_);
  ASSERT_TRUE(img.ok()) << img.status();
  auto cache = RootfsCache::Create(blobs_, {.cache_dir = cache_dir_});
  ASSERT_TRUE(cache.ok());
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<std::string>> results(4, absl::UnknownError(""));
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = (*cache)->GetRootfs(img->manifest_digest, BlobIds(*img)); });
  }
  for (auto& t : threads) t.join();
  for (auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, *results[0]);
  }
  ExpectUnpacked(*results[0]);
  EXPECT_TRUE((*cache)->Contains(img->manifest_digest));
  ASSERT_TRUE((*cache)->Remove(img->manifest_digest).ok());
  EXPECT_FALSE((*cache)->Contains(img->manifest_digest));
}

TEST_F(ImageTest, RejectsTraversalAndAbsolutePathsAtIngest) {
  auto traversal = MakeTar({{.path = "../../canary/pwn", .data = "x"}});
  auto s1 = IngestImageArchive(Archive(MakeDockerArchive({.layers = {traversal}})), blobs_);
  ASSERT_FALSE(s1.ok());
  EXPECT_EQ(s1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s1.status().message(), HasSubstr("'..'"));
  auto absolute = MakeTar({{.path = canary_ + "/pwn", .data = "x"}});
  auto s2 = IngestImageArchive(Archive(MakeDockerArchive({.layers = {absolute}})), blobs_);
  ASSERT_FALSE(s2.ok());
  EXPECT_THAT(s2.status().message(), HasSubstr("absolute path"));
  auto hard = MakeTar({{.path = "h", .type = 'h', .data = "../../etc/passwd"}});
  auto s3 = IngestImageArchive(Archive(MakeDockerArchive({.layers = {hard}})), blobs_);
  ASSERT_FALSE(s3.ok());
  EXPECT_THAT(s3.status().message(), HasSubstr("hard link"));
  ExpectCanaryUntouched();
}

TEST_F(ImageTest, UnpackRejectsHostileLayersDirectly) {
  // Layers that bypass ingest (e.g. stored by an older version) are still refused.
  for (const auto& tar : {MakeTar({{.path = "../canary/pwn", .data = "x"}}),
                          MakeTar({{.path = canary_ + "/pwn", .data = "x"}}),
                          MakeTar({{.path = "h", .type = 'h', .data = "../canary/x"}})}) {
    auto blob = PutBlob(blobs_, tar);
    ASSERT_TRUE(blob.ok());
    TempDir root;
    auto s = UnpackLayers(blobs_, {blob->id}, root.path());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  ExpectCanaryUntouched();
}

TEST_F(ImageTest, RejectsWriteThroughSymlink) {
  auto l1 = MakeTar({{.path = "evil", .type = 'l', .data = canary_}});
  auto l2 = MakeTar({{.path = "evil/pwn", .data = "owned"}});
  auto img = IngestImageArchive(Archive(MakeDockerArchive({.layers = {l1, l2}})), blobs_);
  ASSERT_TRUE(img.ok()) << img.status();  // each layer alone is fine
  auto root = Unpack(*img);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr("through the symlink 'evil'"));
  ExpectCanaryUntouched();
  EXPECT_FALSE(fs::exists(cache_dir_ + "/sha256-" + img->manifest_digest.substr(7)));
}

TEST_F(ImageTest, RejectsDecompressionBomb) {
  std::string bomb = MakeZeroBomb(64 << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  IngestOptions opts{.max_compression_ratio = 100, .ratio_floor_bytes = 1 << 20};
  auto s = IngestImageArchive(Archive(MakeOciArchive({.layers = {bomb}})), blobs_, opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("decompression bomb"));
  IngestOptions small{.max_layer_bytes = 8 << 20};
  s = IngestImageArchive(Archive(MakeOciArchive({.layers = {bomb}})), blobs_, small);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("larger than the limit"));
  auto stored = blobs_.List();
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty()) << "a rejected layer must not be stored";
  // The unpack limits hold on their own too.
  auto blob = PutBlob(blobs_, MakeTar({{.path = "big", .data = std::string(4096, 'a')}}));
  ASSERT_TRUE(blob.ok());
  TempDir root;
  auto u = UnpackLayers(blobs_, {blob->id}, root.path(), {.max_total_bytes = 1024});
  EXPECT_THAT(u.message(), HasSubstr("more than 1024 bytes"));
  ExpectCanaryUntouched();
}

TEST_F(ImageTest, RejectsTruncatedLayer) {
  std::string full =
      MakeTar({{.path = "a", .data = std::string(5000, 'a')}, {.path = "b", .data = "b"}});
  std::string cut = full.substr(0, 512 + 1000);
  auto s = IngestImageArchive(Archive(MakeDockerArchive({.layers = {cut}})), blobs_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("layer 0"));
  EXPECT_THAT(s.status().message(), HasSubstr("runcated"));
  // A truncated gzip layer fails while decompressing.
  std::string gz = MakeTar({{.path = "a", .data = RandomBytes(100000)}}, true);
  auto s2 = IngestImageArchive(Archive(MakeDockerArchive({.layers = {gz.substr(0, gz.size() / 2)},
                                                          .diff_ids = {Digest("x")}})),
                               blobs_);
  ASSERT_FALSE(s2.ok());
  EXPECT_THAT(s2.status().message(), HasSubstr("layer 0"));
}

TEST_F(ImageTest, RejectsBadManifests) {
  auto layers = TwoLayers(true);
  auto missing = IngestImageArchive(
      Archive(
          MakeDockerArchive({.layers = layers, .layer_paths = {"0/layer.tar", "nope/layer.tar"}})),
      blobs_);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("names layer 'nope/layer.tar' which is not in the archive"));

  auto wrong_diff = IngestImageArchive(
      Archive(MakeDockerArchive({.layers = {layers[0]}, .diff_ids = {Digest("other")}})), blobs_);
  ASSERT_FALSE(wrong_diff.ok());
  EXPECT_THAT(wrong_diff.status().message(), HasSubstr("but the image config says"));

  auto wrong_digest = IngestImageArchive(
      Archive(MakeOciArchive({.layers = layers, .override_layer_digest = Digest("other")})),
      blobs_);
  ASSERT_FALSE(wrong_digest.ok());
  EXPECT_THAT(wrong_digest.status().message(), HasSubstr("not in the archive"));

  auto media = IngestImageArchive(
      Archive(MakeOciArchive(
          {.layers = layers,
           .layer_media_type = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"})),
      blobs_);
  ASSERT_FALSE(media.ok());
  EXPECT_THAT(media.status().message(), HasSubstr("unsupported media type"));

  auto declared = IngestImageArchive(
      Archive(MakeOciArchive(
          {.layers = layers, .layer_media_type = "application/vnd.oci.image.layer.v1.tar"})),
      blobs_);
  ASSERT_FALSE(declared.ok());
  EXPECT_THAT(declared.status().message(), HasSubstr("declared uncompressed"));

  auto junk = IngestImageArchive(Archive(MakeTar({{.path = "readme", .data = "hi"}})), blobs_);
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(junk.status().message(), HasSubstr("neither a docker-save archive"));

  auto absent = IngestImageArchive(dir_ / "no-such.tar", blobs_);
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kNotFound);
  auto stored = blobs_.List();
  ASSERT_TRUE(stored.ok());
}

TEST_F(ImageTest, BuilderOutputRoundTrips) {
  TempDir src;
  fs::create_directories(src / "opt/app");
  WriteFile(src / "opt/app/serve", "#!/bin/sh\nexec server\n");
  fs::permissions(src / "opt/app/serve", fs::perms(0755));
  WriteFile(src / "opt/app/data.bin", RandomBytes(300000));
  fs::create_symlink("serve", src / "opt/app/run");
  fs::create_hard_link(src / "opt/app/serve", src / "opt/app/serve2");
  ImageBuildOptions opts{.entrypoint = {"/opt/app/serve"},
                         .env = {"A=1", "B=two"},
                         .exposed_ports = {"8080/tcp"},
                         .ref_name = "xgb:1"};
  auto built = BuildImageFromDirectory(src.path(), opts, dir_ / "built.tar");
  ASSERT_TRUE(built.ok()) << built.status();
  auto again = BuildImageFromDirectory(src.path(), opts, dir_ / "built2.tar");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(built->manifest_digest, again->manifest_digest) << "builds must be reproducible";

  auto img = IngestImageArchive(dir_ / "built.tar", blobs_);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->manifest_digest, built->manifest_digest);
  EXPECT_EQ(img->layers[0].diff_id, built->diff_id);
  EXPECT_EQ(img->config.entrypoint, opts.entrypoint);
  EXPECT_EQ(img->config.env, opts.env);
  EXPECT_EQ(img->ref_names, std::vector<std::string>{"xgb:1"});
  auto root = Unpack(*img);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(ReadFileOrEmpty(*root + "/opt/app/serve"), "#!/bin/sh\nexec server\n");
  EXPECT_EQ(ReadFileOrEmpty(*root + "/opt/app/data.bin"),
            ReadFileOrEmpty(src / "opt/app/data.bin"));
  EXPECT_EQ(fs::read_symlink(*root + "/opt/app/run"), "serve");
  EXPECT_EQ(fs::hard_link_count(*root + "/opt/app/serve"), 2u);
  EXPECT_EQ(fs::status(*root + "/opt/app/serve").permissions() & fs::perms::owner_exec,
            fs::perms::owner_exec);

  auto files =
      BuildImageFromFiles({{.host_path = src / "opt/app/serve", .image_path = "/usr/bin/serve"}},
                          {.entrypoint = {"/usr/bin/serve"}}, dir_ / "files.tar");
  ASSERT_TRUE(files.ok()) << files.status();
  auto img2 = IngestImageArchive(dir_ / "files.tar", blobs_);
  ASSERT_TRUE(img2.ok()) << img2.status();
  auto root2 = Unpack(*img2);
  ASSERT_TRUE(root2.ok()) << root2.status();
  EXPECT_EQ(ReadFileOrEmpty(*root2 + "/usr/bin/serve"), "#!/bin/sh\nexec server\n");
}

}  // namespace
}  // namespace mercato
