#include "sandbox/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt/format.h"

namespace mercato::sandbox {
namespace {

std::string Errno(std::string_view what) { return fmt::format("{}: {}", what, strerror(errno)); }

// Brings `lo` up in the calling thread's network namespace.
absl::Status LoopbackUp() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return absl::InternalError(Errno("socket"));
  struct ifreq ifr {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  absl::Status st;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    st = absl::InternalError(Errno("SIOCGIFFLAGS lo"));
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) st = absl::InternalError(Errno("SIOCSIFFLAGS lo"));
  }
  close(s);
  return st;
}

}  // namespace

TaskThread::TaskThread() : thread_([this] { Loop(); }) {}

TaskThread::~TaskThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void TaskThread::Run(std::function<void()> fn) {
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool finished = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back([&] {
      fn();
      std::lock_guard<std::mutex> l(done_mu);
      finished = true;
      done_cv.notify_all();
    });
  }
  cv_.notify_all();
  std::unique_lock<std::mutex> l(done_mu);
  done_cv.wait(l, [&] { return finished; });
}

void TaskThread::Loop() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

absl::StatusOr<std::unique_ptr<NetnsHelper>> NetnsHelper::Create() {
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(Errno("open /proc/thread-self/ns/net"));
  return std::unique_ptr<NetnsHelper>(new NetnsHelper(fd));
}

NetnsHelper::~NetnsHelper() { close(host_netns_fd_); }

absl::StatusOr<int> NetnsHelper::CreateNamespace() {
  absl::StatusOr<int> result = absl::InternalError("not run");
  thread_.Run([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      result = absl::InternalError(Errno("unshare(CLONE_NEWNET)"));
      return;
    }
    absl::Status up = LoopbackUp();
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (!up.ok()) {
      result = up;
    } else if (fd < 0) {
      result = absl::InternalError(Errno("open new netns"));
    } else {
      result = fd;
    }
    if (setns(host_netns_fd_, CLONE_NEWNET) != 0) {
      // The helper thread would keep dialing from the wrong namespace; nothing sane remains.
      std::abort();
    }
    if (!result.ok() && fd >= 0) close(fd);
  });
  return result;
}

absl::StatusOr<int> NetnsHelper::Dial(int netns_fd, const std::string& ipv4, int port,
                                      absl::Duration timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(fmt::format("bad address {}:{}", ipv4, port));
  }
  int fd = -1;
  std::string error;
  thread_.Run([&] {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      error = Errno("setns into instance netns");
      return;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) error = Errno("socket");
    if (setns(host_netns_fd_, CLONE_NEWNET) != 0) std::abort();
  });
  if (fd < 0) return absl::InternalError(error);
  auto fail = [&](std::string msg) {
    close(fd);
    return absl::UnavailableError(fmt::format("connect {}:{}: {}", ipv4, port, msg));
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) return fail(strerror(errno));
    pollfd p{fd, POLLOUT, 0};
    int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    int r;
    do {
      r = poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return fail("timed out");
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(strerror(err));
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

}  // namespace mercato::sandbox
