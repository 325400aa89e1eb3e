// Network namespaces from the host side: creating a shared namespace for a network group and
// creating sockets inside an instance's namespace (the only way the platform reaches a
// container's port: no bridge, no firewall, no packet leaves 127.0.0.0/8).
//
// setns() and unshare(CLONE_NEWNET) change only the calling thread, so both happen on a
// dedicated TaskThread that always returns to the host namespace before its next task. A
// socket keeps the namespace it was created in, so the fd is then usable from any thread.
// TaskThread and NetnsHelper are thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mercato::sandbox {

// A long-lived thread that runs closures one at a time. Also used to fork sandboxes:
// bwrap --die-with-parent uses PR_SET_PDEATHSIG, which fires when the *thread* that forked
// the child exits, so forks must come from a thread that lives as long as the runtime.
class TaskThread {
 public:
  TaskThread();
  ~TaskThread();
  void Run(std::function<void()> fn);  // blocks until fn has run on the thread

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool done_ = false;
  std::thread thread_;
};

class NetnsHelper {
 public:
  static absl::StatusOr<std::unique_ptr<NetnsHelper>> Create();
  ~NetnsHelper();

  // A fresh network namespace with loopback up (so all of 127.0.0.0/8 is local). Returns an
  // fd (O_CLOEXEC) that keeps it alive; the caller owns it.
  absl::StatusOr<int> CreateNamespace();

  // A TCP socket created inside `netns_fd` and connected to ipv4:port within `timeout`.
  // Unavailable when refused or timed out. The caller owns the fd (blocking mode, CLOEXEC).
  absl::StatusOr<int> Dial(int netns_fd, const std::string& ipv4, int port, absl::Duration timeout);

 private:
  explicit NetnsHelper(int host_netns_fd) : host_netns_fd_(host_netns_fd) {}
  int host_netns_fd_;
  TaskThread thread_;
};

}  // namespace mercato::sandbox
