// The bwrap command line for one instance. Pure (reads only the rootfs directory listing);
// thread-safe.
//
// Why not `--ro-bind ROOTFS /`: bwrap 0.8 then cannot create mount points the image lacks
// (/proc, /opt/ml/model, /etc/hosts...) because the root is already read-only, and it has no
// overlay support yet. So the root is a tmpfs "skeleton": every top-level entry of the rootfs
// is bind-mounted read-only onto it, except that directories on the way to a mount point are
// recreated (--dir) and their entries bound one level deeper. Once everything is mounted,
// `--remount-ro /` makes the skeleton read-only too. The rootfs itself is never written.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/container_runtime.h"

namespace mercato::sandbox {

struct BwrapInvocation {
  std::string bwrap_path = "/usr/bin/bwrap";
  std::string rootfs;
  std::vector<Mount> mounts;  // the spec's plus generated ones (/etc/hosts, /etc/hostname)
  // Host device nodes made visible at the same path (GPUs of GPU instance types only).
  std::vector<std::string> devices;
  std::string hostname;
  bool unshare_net = true;  // false when the caller already placed us in a group namespace
  std::map<std::string, std::string> env;
  std::string entrypoint;
  std::vector<std::string> args;
  int info_fd = 3;
};

// InvalidArgument for relative or ".." paths, missing host paths or rootfs, or a mount point
// below a symlink of the rootfs.
absl::StatusOr<std::vector<std::string>> BuildBwrapArgs(const BwrapInvocation& inv);

// True for an absolute path without "", "." or ".." components (and not "/").
bool IsCleanAbsolutePath(const std::string& path);

}  // namespace mercato::sandbox
