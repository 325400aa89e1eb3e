#include "sandbox/bwrap_args.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/status.h"
#include "fmt/format.h"

namespace mercato::sandbox {
namespace fs = std::filesystem;
namespace {

int Depth(const std::string& path) {
  return static_cast<int>(std::count(path.begin(), path.end(), '/'));
}

// Emits the skeleton for container directory `dir` (mirroring `host_dir` of the rootfs),
// given the mount points at or below it.
absl::Status Skeleton(const fs::path& host_dir, const std::string& dir,
                      const std::set<std::string>& dests, std::vector<std::string>* out) {
  std::error_code ec;
  fs::directory_iterator it(host_dir, ec);
  if (ec)
    return absl::InvalidArgumentError(fmt::format("read {}: {}", host_dir.string(), ec.message()));
  std::vector<fs::directory_entry> entries(it, fs::directory_iterator());
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) {
    std::string name = e.path().filename().string();
    std::string target = (dir == "/" ? "" : dir) + "/" + name;
    if (dests.count(target)) continue;  // something else is mounted here
    bool ancestor = false;
    for (const auto& d : dests) {
      if (d.rfind(target + "/", 0) == 0) ancestor = true;
    }
    fs::file_status st = e.symlink_status(ec);
    if (ec) continue;
    if (fs::is_symlink(st)) {
      if (ancestor) {
        return absl::InvalidArgumentError(
            fmt::format("mount point below {} which is a symlink in the image", target));
      }
      out->insert(out->end(), {"--symlink", fs::read_symlink(e.path(), ec).string(), target});
    } else if (fs::is_directory(st) && ancestor) {
      out->insert(out->end(), {"--dir", target});
      RETURN_IF_ERROR(Skeleton(e.path(), target, dests, out));
    } else if (fs::is_directory(st) || fs::is_regular_file(st)) {
      out->insert(out->end(), {"--ro-bind", e.path().string(), target});
    }
    // Devices, fifos and sockets from an image are dropped: /dev is provided by bwrap.
  }
  return absl::OkStatus();
}

}  // namespace

bool IsCleanAbsolutePath(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

absl::StatusOr<std::vector<std::string>> BuildBwrapArgs(const BwrapInvocation& inv) {
  if (inv.rootfs.empty() || !fs::is_directory(inv.rootfs)) {
    return absl::InvalidArgumentError(fmt::format("rootfs '{}' is not a directory", inv.rootfs));
  }
  if (!IsCleanAbsolutePath(inv.entrypoint)) {
    return absl::InvalidArgumentError(fmt::format("bad entrypoint '{}'", inv.entrypoint));
  }
  std::set<std::string> dests = {"/proc", "/dev", "/tmp"};
  std::vector<Mount> mounts = inv.mounts;
  for (const auto& m : mounts) {
    if (!IsCleanAbsolutePath(m.container_path)) {
      return absl::InvalidArgumentError(fmt::format("bad container path '{}'", m.container_path));
    }
    if (m.host_path.empty() || m.host_path[0] != '/' || !fs::exists(m.host_path)) {
      return absl::InvalidArgumentError(
          fmt::format("mount source '{}' does not exist", m.host_path));
    }
    if (!dests.insert(m.container_path).second) {
      return absl::InvalidArgumentError(fmt::format("two mounts at '{}'", m.container_path));
    }
  }
  // Parents before children, so a nested mount lands inside its parent's mount.
  std::stable_sort(mounts.begin(), mounts.end(), [](const Mount& a, const Mount& b) {
    return Depth(a.container_path) < Depth(b.container_path);
  });

  std::vector<std::string> a = {inv.bwrap_path,
                                "--unshare-pid",
                                "--unshare-ipc",
                                "--unshare-uts",
                                "--as-pid-1",
                                "--die-with-parent",
                                "--new-session",
                                "--cap-drop",
                                "ALL",
                                "--hostname",
                                inv.hostname,
                                "--info-fd",
                                std::to_string(inv.info_fd),
                                "--clearenv"};
  if (inv.unshare_net) a.push_back("--unshare-net");
  for (const auto& [k, v] : inv.env) a.insert(a.end(), {"--setenv", k, v});
  a.insert(a.end(), {"--tmpfs", "/"});
  RETURN_IF_ERROR(Skeleton(inv.rootfs, "/", dests, &a));
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});
  for (const auto& d : inv.devices) {
    if (!IsCleanAbsolutePath(d) || d.rfind("/dev/", 0) != 0) {
      return absl::InvalidArgumentError(fmt::format("device {} is not under /dev", d));
    }
    a.insert(a.end(), {"--dev-bind", d, d});
  }
  for (const auto& m : mounts) {
    a.insert(a.end(), {m.read_only ? "--ro-bind" : "--bind", m.host_path, m.container_path});
  }
  a.insert(a.end(), {"--remount-ro", "/", "--chdir", "/", "--", inv.entrypoint});
  a.insert(a.end(), inv.args.begin(), inv.args.end());
  return a;
}

}  // namespace mercato::sandbox
