#include "jobs/run_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mercato::jobs {
namespace {
namespace fs = std::filesystem;

class RunFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/run-files-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A plain tar holding `files` (path → content; mode 04755 for every file).
  std::string WriteTar(const std::vector<std::pair<std::string, std::string>>& files) {
    std::string path = dir_ + "/in.tar";
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, path.c_str());
    for (const auto& [name, content] : files) {
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 04755);
      archive_entry_set_size(e, content.size());
      archive_write_header(a, e);
      archive_write_data(a, content.data(), content.size());
      archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
};

TEST_F(RunFilesTest, ExtractsFilesWithoutSetuidBits) {
  std::string tar = WriteTar({{"./a/b.csv", "1,2\n"}, {"c.txt", "c"}});
  fs::create_directories(dir_ + "/out");
  ASSERT_TRUE(ExtractArchive(tar, dir_ + "/out", 1 << 20).ok());
  EXPECT_EQ(Read(dir_ + "/out/a/b.csv"), "1,2\n");
  EXPECT_EQ(Read(dir_ + "/out/c.txt"), "c");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/out/c.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07000, 0u);
}

TEST_F(RunFilesTest, RefusesEscapingMembersAndOversizeContent) {
  fs::create_directories(dir_ + "/out");
  absl::Status s = ExtractArchive(WriteTar({{"../evil", "x"}}), dir_ + "/out", 1 << 20);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ + "/evil"));
  s = ExtractArchive(WriteTar({{"/abs", "x"}}), dir_ + "/out", 1 << 20);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = ExtractArchive(WriteTar({{"big", std::string(1000, 'x')}}), dir_ + "/out", 100);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  std::ofstream(dir_ + "/junk") << "not an archive";
  EXPECT_FALSE(ExtractArchive(dir_ + "/junk", dir_ + "/out", 100).ok());
}

TEST_F(RunFilesTest, PackThenExtractRoundTrips) {
  fs::create_directories(dir_ + "/model/sub");
  std::ofstream(dir_ + "/model/xgboost-model") << "model bytes";
  std::ofstream(dir_ + "/model/sub/extra") << "more";
  ASSERT_TRUE(PackDirectory(dir_ + "/model", dir_ + "/model.tar.gz").ok());
  fs::create_directories(dir_ + "/back");
  ASSERT_TRUE(ExtractArchive(dir_ + "/model.tar.gz", dir_ + "/back", 1 << 20).ok());
  EXPECT_EQ(Read(dir_ + "/back/xgboost-model"), "model bytes");
  EXPECT_EQ(Read(dir_ + "/back/sub/extra"), "more");
}

TEST_F(RunFilesTest, HyperparametersBecomeStringsAndConfigFilesAreWritten) {
  auto hp = StringifyHyperparameters(Json{{"num_round", 20}, {"eta", 0.5}, {"objective", "x"}});
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ((*hp)["num_round"], "20");
  EXPECT_EQ((*hp)["eta"], "0.5");
  EXPECT_EQ((*hp)["objective"], "x");
  EXPECT_FALSE(StringifyHyperparameters(Json::array()).ok());

  ASSERT_TRUE(WriteTrainingConfig(dir_, *hp, {"train", "validation"}, "ml.m5.large").ok());
  Json resource = Json::parse(Read(dir_ + "/resourceconfig.json"));
  EXPECT_EQ(resource["current_host"], "algo-1");
  EXPECT_EQ(resource["hosts"], Json::array({"algo-1"}));
  Json data = Json::parse(Read(dir_ + "/inputdataconfig.json"));
  EXPECT_TRUE(data.contains("train"));
  EXPECT_TRUE(data.contains("validation"));
  EXPECT_EQ(Json::parse(Read(dir_ + "/hyperparameters.json")), *hp);
}

TEST(ChannelNames, FollowSageMakerRules) {
  EXPECT_TRUE(IsValidChannelName("train"));
  EXPECT_TRUE(IsValidChannelName("validation_1.csv-x"));
  EXPECT_FALSE(IsValidChannelName(""));
  EXPECT_FALSE(IsValidChannelName(".."));
  EXPECT_FALSE(IsValidChannelName("a/b"));
  EXPECT_FALSE(IsValidChannelName(std::string(65, 'a')));
}

}  // namespace
}  // namespace mercato::jobs
