// Unit tests of the sandbox pieces that need no privileges: instance types and capacity,
// cgroup layout parsing, the bwrap command line, log files.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/bwrap_args.h"
#include "sandbox/cgroups.h"
#include "sandbox/instance_types.h"
#include "sandbox/log_files.h"

namespace mercato::sandbox {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sandbox_unit_XXXXXX").string();
  return mkdtemp(tmpl.data());
}

TEST(InstanceTypesTest, DefaultsHaveSageMakerFigures) {
  InstanceTypes t = InstanceTypes::Default();
  auto m5 = t.Find("ml.m5.xlarge");
  ASSERT_TRUE(m5.ok());
  EXPECT_EQ(m5->vcpus, 4);
  EXPECT_EQ(m5->memory_bytes, 16 * kGiB);
  EXPECT_EQ(t.Find("ml.p3.2xlarge")->memory_bytes, 61 * kGiB);
  EXPECT_EQ(t.Find("ml.g4dn.xlarge")->gpus, 1);
  EXPECT_EQ(t.Find("ml.t2.medium")->memory_bytes, 4 * kGiB);
  EXPECT_EQ(t.Find("ml.nope").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CapacityTest, ReservesWithinOvercommitAndExplainsRefusals) {
  CapacityAccountant cap({HostResources{2, 4 * kGiB, 0, {}}, 8.0, 1.5});  // 16 vCPU / 6 GiB
  InstanceType small{"ml.t2.medium", 2, 4 * kGiB, 0};
  ASSERT_TRUE(cap.Reserve("a", small).ok());
  absl::Status s = cap.Reserve("b", small);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("insufficient capacity: ml.t2.medium needs 2 vCPU / 4 GiB; host has 14 "
                        "vCPU / 2 GiB free"));
  cap.Release("a");
  EXPECT_TRUE(cap.Reserve("b", small).ok());
  s = cap.Reserve("g", InstanceType{"ml.g4dn.xlarge", 4, 16 * kGiB, 1});
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ml.g4dn.xlarge needs 1 GPU"));
  EXPECT_EQ(cap.Free().vcpus, 14);
}

TEST(CapacityTest, GpusGoToGpuTypesOnlyOneInstanceEach) {
  HostResources host{64, 256 * kGiB, 2, {"/dev/nvidia0", "/dev/nvidia1"}};
  CapacityAccountant cap({host, 1.0, 1.0});
  InstanceType gpu{"ml.g4dn.xlarge", 4, 16 * kGiB, 1};
  ASSERT_TRUE(cap.Reserve("cpu", InstanceType{"ml.m5.large", 2, 8 * kGiB, 0}).ok());
  EXPECT_TRUE(cap.GpuDevices("cpu").empty());
  ASSERT_TRUE(cap.Reserve("g1", gpu).ok());
  ASSERT_TRUE(cap.Reserve("g2", gpu).ok());
  EXPECT_EQ(cap.GpuDevices("g1"), std::vector<std::string>{"/dev/nvidia0"});
  EXPECT_EQ(cap.GpuDevices("g2"), std::vector<std::string>{"/dev/nvidia1"});
  EXPECT_EQ(cap.Reserve("g3", gpu).code(), absl::StatusCode::kResourceExhausted);
  cap.Release("g1");
  ASSERT_TRUE(cap.Reserve("g3", gpu).ok());
  EXPECT_EQ(cap.GpuDevices("g3"), std::vector<std::string>{"/dev/nvidia0"});
}

TEST(CgroupLayoutTest, ParsesMixedV1AndV2) {
  const char* cgroup =
      "8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/svc\n0::/user.slice/x.scope\n";
  const char* mountinfo =
      "30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "33 30 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
      "34 30 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  auto layout = CgroupLayout::Parse(cgroup, mountinfo);
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->v1_dirs.at("memory"), "/sys/fs/cgroup/memory/process_api/abc");
  EXPECT_EQ(layout->v1_dirs.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct/svc");
  EXPECT_EQ(layout->v1_dirs.at("pids"), "/sys/fs/cgroup/pids");
  EXPECT_EQ(*layout->v2_dir, "/sys/fs/cgroup/unified/user.slice/x.scope");
}

TEST(CgroupLayoutTest, ParsesPureV2WithNamespacedRoot) {
  auto layout = CgroupLayout::Parse(
      "0::/mercato.service\n",
      "40 1 0:35 /machine /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(layout->v1_dirs.empty());
  EXPECT_EQ(*layout->v2_dir, "/sys/fs/cgroup/mercato.service");
}

TEST(BwrapArgsTest, BuildsReadOnlySkeletonAroundMountPoints) {
  std::string root = TempDir();
  fs::create_directories(root + "/rootfs/bin");
  fs::create_directories(root + "/rootfs/etc/ssl");
  fs::create_directories(root + "/rootfs/opt/app");
  std::ofstream(root + "/rootfs/etc/hosts") << "image hosts\n";
  std::ofstream(root + "/rootfs/etc/passwd") << "root:x:0:0\n";
  fs::create_symlink("usr/lib", root + "/rootfs/lib");
  fs::create_directories(root + "/model");
  std::ofstream(root + "/hosts") << "x\n";

  BwrapInvocation inv;
  inv.rootfs = root + "/rootfs";
  inv.mounts = {{root + "/model", "/opt/ml/model", true}, {root + "/hosts", "/etc/hosts", true}};
  inv.hostname = "algo-1";
  inv.env = {{"PATH", "/bin"}};
  inv.entrypoint = "/bin/serve";
  inv.args = {"serve"};
  auto args = BuildBwrapArgs(inv);
  ASSERT_TRUE(args.ok()) << args.status();
  std::string joined;
  for (const auto& a : *args) joined += a + " ";
  EXPECT_THAT(joined, HasSubstr("--tmpfs / "));
  EXPECT_THAT(joined, HasSubstr("--ro-bind " + root + "/rootfs/bin /bin "));
  EXPECT_THAT(joined, HasSubstr("--dir /etc "));  // /etc/hosts is mounted, so /etc is rebuilt
  EXPECT_THAT(joined, HasSubstr("--ro-bind " + root + "/rootfs/etc/passwd /etc/passwd "));
  EXPECT_THAT(joined, Not(HasSubstr("rootfs/etc/hosts")));  // replaced by the generated one
  EXPECT_THAT(joined, HasSubstr("--ro-bind " + root + "/rootfs/opt/app /opt/app "));
  EXPECT_THAT(joined, HasSubstr("--symlink usr/lib /lib "));
  EXPECT_THAT(joined, HasSubstr("--ro-bind " + root + "/model /opt/ml/model "));
  EXPECT_THAT(joined, HasSubstr("--unshare-net"));
  EXPECT_THAT(joined, HasSubstr("--setenv PATH /bin"));
  EXPECT_THAT(joined, HasSubstr("--remount-ro / --chdir / -- /bin/serve serve "));
  EXPECT_THAT(joined, Not(HasSubstr("--dev-bind")));

  inv.devices = {"/dev/nvidia0", "/dev/nvidiactl"};
  args = BuildBwrapArgs(inv);
  ASSERT_TRUE(args.ok()) << args.status();
  joined.clear();
  for (const auto& a : *args) joined += a + " ";
  EXPECT_THAT(joined, HasSubstr("--dev /dev --tmpfs /tmp --dev-bind /dev/nvidia0 /dev/nvidia0 "
                                "--dev-bind /dev/nvidiactl /dev/nvidiactl "));
  inv.devices = {"/etc/shadow"};
  EXPECT_EQ(BuildBwrapArgs(inv).status().code(), absl::StatusCode::kInvalidArgument);
  inv.devices.clear();

  inv.mounts = {{root + "/model", "/opt/../etc", true}};
  EXPECT_EQ(BuildBwrapArgs(inv).status().code(), absl::StatusCode::kInvalidArgument);
  inv.mounts = {{root + "/missing", "/opt/ml/model", true}};
  EXPECT_EQ(BuildBwrapArgs(inv).status().code(), absl::StatusCode::kInvalidArgument);
  inv.mounts = {{root + "/model", "/lib/x", true}};  // below a symlink of the image
  EXPECT_EQ(BuildBwrapArgs(inv).status().code(), absl::StatusCode::kInvalidArgument);
  fs::remove_all(root);
}

TEST(LogFilesTest, TimestampsRotatesAndFollows) {
  std::string dir = TempDir();
  ManualClock clock(absl::FromUnixSeconds(1700000000));
  auto sink = LogSink::Open(dir, LogRotation{200, 2}, clock);
  ASSERT_TRUE(sink.ok());
  FileLogReader reader(dir);
  (*sink)->Append("stdout", "hello\nwor");
  (*sink)->Append("stderr", "oops\n");
  auto ev = reader.Read(100);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 2u);
  EXPECT_EQ((*ev)[0].message, "hello");
  EXPECT_EQ((*ev)[0].stream, "stdout");
  EXPECT_EQ((*ev)[0].time, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ((*ev)[1].stream, "stderr");
  (*sink)->Append("stdout", "ld\n");
  clock.Advance(absl::Seconds(1));
  for (int i = 0; i < 10; ++i) (*sink)->Append("stdout", "line " + std::to_string(i) + "\n");
  (*sink)->Close();
  ev = reader.Read(100);
  ASSERT_TRUE(ev.ok());
  std::vector<std::string> msgs;
  for (const auto& e : *ev) msgs.push_back(e.message);
  // Rotation at 200 bytes keeps 2 old files: early lines may be gone, order never changes.
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs.back(), "line 9");
  EXPECT_TRUE(fs::exists(dir + "/container.log.1"));
  EXPECT_FALSE(fs::exists(dir + "/container.log.3"));
  for (size_t i = 1; i < msgs.size(); ++i) EXPECT_NE(msgs[i], msgs[i - 1]);
  FileLogReader fresh(dir);
  auto all = fresh.Read(1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->back().message, "line 9");
  EXPECT_EQ(all->back().time, absl::FromUnixSeconds(1700000001));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mercato::sandbox
