#include "hosting/testing/fake_runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace mercato::hosting::testing {
namespace beast_http = boost::beast::http;
using sandbox::InstanceId;
using sandbox::InstanceStatus;

struct FakeRuntime::Instance {
  sandbox::InstanceSpec spec;
  FakeBehavior behavior;
  int listen_fd = -1;
  int port = 0;
  std::atomic<bool> running{true};
  std::atomic<int> served{0};
  InstanceStatus status;
  std::mutex mu;
  std::set<int> conns;
  std::vector<std::thread> threads;
};

FakeRuntime::FakeRuntime(BehaviorFn behavior) : behavior_(std::move(behavior)) {}

FakeRuntime::~FakeRuntime() {
  std::map<InstanceId, std::shared_ptr<Instance>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all = instances_;
  }
  for (auto& [id, inst] : all) Shut(*inst, 0, "Stopped");
  for (auto& [id, inst] : all) {
    for (auto& t : inst->threads) {
      if (t.joinable()) t.join();
    }
  }
}

void FakeRuntime::set_behavior(BehaviorFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  behavior_ = std::move(fn);
}

absl::StatusOr<InstanceId> FakeRuntime::Start(const sandbox::InstanceSpec& spec) {
  auto inst = std::make_shared<Instance>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (instances_.count(spec.id)) return absl::AlreadyExistsError(spec.id);
    inst->behavior = behavior_ ? behavior_(spec) : FakeBehavior{};
    if (inst->behavior.start_fails) {
      return absl::ResourceExhaustedError("instance type does not fit on this host");
    }
    inst->spec = spec;
    started_.push_back(spec);
    instances_[spec.id] = inst;
  }
  if (inst->behavior.exit_at_start) {
    inst->running = false;
    inst->status.running = false;
    inst->status.exit_code = inst->behavior.exit_code;
    inst->status.reason = "Error";
    return spec.id;
  }
  inst->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(inst->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(inst->listen_fd, 64);
  socklen_t len = sizeof(addr);
  ::getsockname(inst->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  inst->port = ntohs(addr.sin_port);
  inst->status.running = true;
  std::lock_guard<std::mutex> lock(inst->mu);
  inst->threads.emplace_back([this, inst] { Serve(inst); });
  return spec.id;
}

void FakeRuntime::Serve(std::shared_ptr<Instance> inst) {
  while (inst->running) {
    pollfd p{inst->listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(inst->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(inst->mu);
    if (!inst->running) {
      ::close(fd);
      break;
    }
    inst->conns.insert(fd);
    inst->threads.emplace_back([this, inst, fd] { HandleConnection(inst, fd); });
  }
}

void FakeRuntime::HandleConnection(std::shared_ptr<Instance> inst, int fd) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  boost::system::error_code ec;
  sock.assign(boost::asio::ip::tcp::v4(), fd, ec);
  boost::beast::flat_buffer buf;
  while (inst->running) {
    beast_http::request<beast_http::string_body> req;
    beast_http::read(sock, buf, req, ec);
    if (ec) break;
    beast_http::response<beast_http::string_body> res;
    res.version(11);
    res.keep_alive(req.keep_alive());
    const FakeBehavior& b = inst->behavior;
    if (req.target() == "/ping") {
      res.result(b.ping_ok ? 200 : 500);
    } else if (req.target() == "/invocations") {
      inst->served++;
      if (b.delay_ms > 0) {
        for (int waited = 0; waited < b.delay_ms && inst->running; waited += 10) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      res.result(b.invocation_status);
      res.set(beast_http::field::content_type, b.content_type);
      auto attrs = req["X-Amzn-SageMaker-Custom-Attributes"];
      if (!attrs.empty()) res.set("X-Amzn-SageMaker-Custom-Attributes", attrs);
      res.body() = b.respond ? b.respond(req.body()) : inst->spec.id + ":" + req.body();
    } else {
      res.result(404);
    }
    res.prepare_payload();
    beast_http::write(sock, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  {
    std::lock_guard<std::mutex> lock(inst->mu);
    inst->conns.erase(fd);
  }
  sock.close(ec);
}

void FakeRuntime::Shut(Instance& inst, int code, const std::string& reason) {
  std::lock_guard<std::mutex> lock(inst.mu);
  if (!inst.running.exchange(false) && inst.listen_fd < 0) return;
  if (inst.listen_fd >= 0) {
    ::close(inst.listen_fd);
    inst.listen_fd = -1;
  }
  for (int fd : inst.conns) ::shutdown(fd, SHUT_RDWR);
  if (inst.status.running) {
    inst.status.running = false;
    inst.status.exit_code = code;
    inst.status.reason = reason;
  }
}

absl::Status FakeRuntime::Stop(const InstanceId& id, absl::Duration) {
  std::shared_ptr<Instance> inst;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = instances_.find(id);
    if (it == instances_.end()) return absl::NotFoundError(id);
    inst = it->second;
  }
  Shut(*inst, 143, "Stopped");
  return absl::OkStatus();
}

void FakeRuntime::Crash(const InstanceId& id, int code) {
  std::shared_ptr<Instance> inst;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = instances_.find(id);
    if (it == instances_.end()) return;
    inst = it->second;
  }
  Shut(*inst, code, "Error");
}

absl::StatusOr<InstanceStatus> FakeRuntime::Wait(const InstanceId& id, absl::Duration timeout) {
  return Status(id);
}

absl::StatusOr<InstanceStatus> FakeRuntime::Status(const InstanceId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  if (it == instances_.end()) return absl::NotFoundError(id);
  std::lock_guard<std::mutex> ilock(it->second->mu);
  return it->second->status;
}

absl::StatusOr<int> FakeRuntime::Dial(const InstanceId& id, int port, absl::Duration) {
  int target = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = instances_.find(id);
    if (it == instances_.end()) return absl::NotFoundError(id);
    if (!it->second->running) return absl::UnavailableError("instance not running");
    target = it->second->port;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(target));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError("connection refused");
  }
  return fd;
}

absl::StatusOr<sandbox::LogReaderPtr> FakeRuntime::Logs(const InstanceId& id) {
  return absl::UnimplementedError("no logs in the fake");
}

absl::Status FakeRuntime::Forget(const InstanceId& id) { return absl::OkStatus(); }

std::vector<InstanceId> FakeRuntime::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<InstanceId> out;
  for (const auto& [id, inst] : instances_) {
    if (inst->running) out.push_back(id);
  }
  return out;
}

std::vector<sandbox::InstanceSpec> FakeRuntime::Started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

int FakeRuntime::Served(const InstanceId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  return it == instances_.end() ? 0 : it->second->served.load();
}

}  // namespace mercato::hosting::testing
