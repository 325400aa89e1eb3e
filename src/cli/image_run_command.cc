// `mercato image run REF [flags] -- ARGS`: runs an image once through the image-runs API —
// create the run, upload model data and input channels, start it, follow its logs until it
// exits, optionally download the trained model — and exits with the container's exit code.
// With --port-forward PORT, HTTP requests to 127.0.0.1:PORT are relayed to the container's
// port 8080 through /api/v1/image-runs/{id}/http/. SIGINT/SIGTERM stop the run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "base/status.h"
#include "cli/image_commands.h"
#include "fmt/format.h"
#include "jobs/run_files.h"

namespace mercato::cli {
namespace {
namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

volatile std::sig_atomic_t g_signal = 0;
void OnSignal(int signo) { g_signal = signo; }

struct RunFlags {
  std::string ref;
  std::string instance_type;
  std::string model_data;
  std::vector<std::string> inputs;  // CHANNEL=DIR
  std::string hyperparameters_file;
  int port_forward = 0;
  std::string output_model;
  std::vector<std::string> args;
};

bool IsHopByHop(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "connection" || name == "keep-alive" || name == "transfer-encoding" ||
         name == "content-length" || name == "upgrade" || name == "te" || name == "trailer";
}

// Relays HTTP requests from a local port to the run's /http/ route, one thread per
// connection. Stops (and joins every thread) when destroyed.
class PortForwarder {
 public:
  static absl::StatusOr<std::unique_ptr<PortForwarder>> Start(const Client& client,
                                                              std::string http_prefix, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError("socket() failed");
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd, 64) != 0) {
      ::close(fd);
      return absl::InvalidArgumentError(
          fmt::format("cannot listen on 127.0.0.1:{}: {}", port, std::strerror(errno)));
    }
    auto f = std::unique_ptr<PortForwarder>(new PortForwarder(client, std::move(http_prefix), fd));
    f->acceptor_ = std::thread([p = f.get()] { p->AcceptLoop(); });
    return f;
  }

  ~PortForwarder() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }

 private:
  PortForwarder(const Client& client, std::string prefix, int fd)
      : client_(client), prefix_(std::move(prefix)), listen_fd_(fd) {}

  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    try {
      socket.assign(net::ip::tcp::v4(), fd);
      beast::flat_buffer buffer;
      while (!stop_) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(64ull << 20);
        bhttp::read(socket, buffer, parser);
        auto& req = parser.get();
        bhttp::response<bhttp::string_body> res = Relay(req);
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        bhttp::write(socket, res);
        if (!req.keep_alive()) break;
      }
    } catch (const std::exception&) {
      // The client went away or sent garbage: just drop the connection.
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
    beast::error_code ec;
    socket.close(ec);
  }

  bhttp::response<bhttp::string_body> Relay(const bhttp::request<bhttp::string_body>& req) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "content-type" || lower == "accept" ||
          lower == "x-amzn-sagemaker-custom-attributes") {
        headers.emplace_back(name, std::string(field.value()));
      }
    }
    std::string target(req.target());
    if (target.empty() || target[0] != '/') target = "/" + target;
    auto result =
        client_.SendRaw(std::string(req.method_string()), prefix_ + target, headers, req.body());
    bhttp::response<bhttp::string_body> res;
    res.version(11);
    if (!result.ok()) {
      res.result(bhttp::status::bad_gateway);
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = std::string(result.status().message()) + "\n";
      return res;
    }
    res.result(static_cast<unsigned>(result->status));
    for (const auto& [name, value] : result->headers) {
      if (!IsHopByHop(name)) res.set(name, value);
    }
    res.body() = std::move(result->body);
    return res;
  }

  const Client& client_;
  const std::string prefix_;
  const int listen_fd_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::set<int> open_fds_;
  std::vector<std::thread> workers_;
};

absl::StatusOr<Json> ReadHyperparameters(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(fmt::format("cannot read {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(fmt::format("{} must hold a JSON object", path));
  }
  return j;
}

absl::Status UploadInputs(const Client& c, const std::string& run_path, const RunFlags& flags) {
  if (!flags.model_data.empty()) {
    ASSIGN_OR_RETURN(Json j, c.CallWithFile("PUT", run_path + "/model-data", flags.model_data,
                                            "application/gzip"));
    (void)j;
  }
  for (const std::string& spec : flags.inputs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      return absl::InvalidArgumentError(fmt::format("--input takes CHANNEL=DIR, got '{}'", spec));
    }
    std::string channel = spec.substr(0, eq);
    std::string dir = spec.substr(eq + 1);
    if (!fs::is_directory(dir)) {
      return absl::InvalidArgumentError(
          fmt::format("--input {}: {} is not a directory", channel, dir));
    }
    std::string tmp =
        (fs::temp_directory_path() / fmt::format("mercato-input-{}-{}.tar.gz", ::getpid(), channel))
            .string();
    absl::Status packed = jobs::PackDirectory(dir, tmp);
    absl::StatusOr<Json> put =
        packed.ok() ? c.CallWithFile("PUT", run_path + "/input/" + UrlEncode(channel), tmp,
                                     "application/gzip")
                    : absl::StatusOr<Json>(packed);
    std::remove(tmp.c_str());
    RETURN_IF_ERROR(put.status());
  }
  return absl::OkStatus();
}

void SleepInterruptibly(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (!g_signal && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Prints log lines until the run is done; stops the run on SIGINT/SIGTERM.
absl::Status FollowLogs(const Client& c, const std::string& run_path) {
  int64_t next = 0;
  bool stop_sent = false;
  for (;;) {
    if (g_signal && !stop_sent) {
      std::cerr << "stopping the run...\n";
      stop_sent = true;
      RETURN_IF_ERROR(c.Call("POST", run_path + "/stop").status());
    }
    ASSIGN_OR_RETURN(Json j, c.Call("GET", fmt::format("{}/logs?since_line={}", run_path, next)));
    const Json& lines = j["lines"];
    for (const auto& line : lines) std::cout << line.value("message", "") << "\n";
    std::cout.flush();
    next = j.value("next_line", next);
    if (j.value("done", false)) return absl::OkStatus();
    if (lines.empty()) SleepInterruptibly(std::chrono::milliseconds(300));
  }
}

absl::StatusOr<int> RunImage(Context& ctx, const Client& c, const RunFlags& flags) {
  Json request = {{"image", flags.ref}, {"args", flags.args}};
  if (!flags.instance_type.empty()) request["instance_type"] = flags.instance_type;
  if (!flags.hyperparameters_file.empty()) {
    ASSIGN_OR_RETURN(request["hyperparameters"], ReadHyperparameters(flags.hyperparameters_file));
  }
  ASSIGN_OR_RETURN(Json run, c.Call("POST", "/api/v1/image-runs", request));
  std::string id = run.value("run_id", "");
  std::string run_path = "/api/v1/image-runs/" + id;
  std::cerr << "image run " << id << " (" << run.value("image_uri", "") << ")\n";
  RETURN_IF_ERROR(UploadInputs(c, run_path, flags));

  std::unique_ptr<PortForwarder> forwarder;
  if (flags.port_forward > 0) {
    ASSIGN_OR_RETURN(forwarder, PortForwarder::Start(c, run_path + "/http", flags.port_forward));
  }
  RETURN_IF_ERROR(c.Call("POST", run_path + "/start").status());
  if (forwarder) {
    std::cerr << "forwarding http://127.0.0.1:" << flags.port_forward
              << " to the container's port 8080 (Ctrl-C to stop)\n";
  }
  absl::Status followed = FollowLogs(c, run_path);
  forwarder.reset();
  if (!followed.ok()) {
    (void)c.Call("POST", run_path + "/stop");
    return followed;
  }
  ASSIGN_OR_RETURN(run, c.Call("GET", run_path));
  std::string state = run.value("state", "");
  int exit_code = run["exit_code"].is_number_integer() ? run["exit_code"].get<int>()
                                                       : (state == "Completed" ? 0 : 1);
  std::cerr << fmt::format("image run {} {} (exit code {})\n", id, state, exit_code);
  std::string failure = run.value("failure_reason", "");
  if (!failure.empty()) std::cerr << "failure reason: " << failure << "\n";
  if (!flags.output_model.empty()) {
    if (state == "Completed" && run.value("model_available", false)) {
      RETURN_IF_ERROR(c.Download(run_path + "/model", flags.output_model));
      std::cerr << "model written to " << flags.output_model << "\n";
    } else {
      std::cerr << "no model to download (the run is " << state << ")\n";
    }
  }
  if (ctx.json) std::cout << run.dump(2) << "\n";
  return exit_code;
}

}  // namespace

void RegisterImageRunCommand(CLI::App& image, Context& ctx) {
  auto* run = image.add_subcommand("run", "run an image once in a sandbox (test it)");
  auto flags = std::make_shared<RunFlags>();
  run->add_option("REF", flags->ref, "image reference")->required();
  run->add_option("ARGS", flags->args, "container arguments after --, e.g. train or serve");
  run->add_option("--instance-type", flags->instance_type, "e.g. ml.m5.large");
  run->add_option("--model-data", flags->model_data, "model.tar.gz, extracted at /opt/ml/model")
      ->check(CLI::ExistingFile);
  run->add_option("--input", flags->inputs,
                  "CHANNEL=DIR → /opt/ml/input/data/CHANNEL (repeatable)");
  run->add_option("--hyperparameters", flags->hyperparameters_file, "JSON file of hyperparameters")
      ->check(CLI::ExistingFile);
  run->add_option("--port-forward", flags->port_forward,
                  "relay 127.0.0.1:PORT to the container's port 8080");
  run->add_option("--output-model", flags->output_model,
                  "write the trained model.tar.gz here after a train run");
  run->callback([&ctx, flags] {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(int code, RunImage(ctx, c, *flags));
      ctx.exit_code = code;
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
