// sandbox_probe: a static test binary run inside sandboxes by sandbox_test. Each subcommand
// tries one thing and reports it on stdout; exit 0 = it worked, 2 = it failed, 1 = usage.
//   connect HOST PORT   TCP connect (HOST: IPv4 or a name from /etc/hosts), 2 s timeout
//   resolve NAME        getaddrinfo, then /etc/hosts
//   read PATH | write PATH
//   listen PORT [HOST]  HTTP server answering 200 "ok" to every request; SIGTERM exits 0
//   ps                  the pids visible in /proc
//   hog MB              allocates and touches MB MiB
//   sleep [SECONDS]     SIGTERM exits 0
//   spawn-and-sleep [N] forks N children; all of them ignore SIGTERM
//   echo WORDS...       each word on a stdout line, then "done" on stderr
//   train               a SageMaker training stand-in (mercatod's training-job tests): reads
//                       current_host and hosts from /opt/ml/input/config/resourceconfig.json;
//                       algo-1 listens on :7777 until every other host said hello, the others
//                       connect to algo-1 (retrying for 60 s); then writes
//                       /opt/ml/model/<host>.txt and prints "probe-peers: N". PROBE_TRAIN_SLEEP=S
//                       sleeps S seconds first (SIGTERM exits 0).
//   serve               a SageMaker inference server on $SAGEMAKER_BIND_TO_PORT (8080):
//                       GET /ping → 200, POST /invocations → 200 "<hostname>:<body>",
//                       keep-alive, a thread per connection, a log line per request
//                       (with the body's first 64 bytes).
//                       Misbehaviour for robustness tests, chosen by environment:
//                       PROBE_PING=hang|fail  never answer /ping, or answer it 500
//                       PROBE_EXIT_AFTER=N    exit with code 3 after N seconds
//                       PROBE_SLEEP=S         sleep S seconds before answering /invocations
//                       PROBE_STATUS=CODE     answer /invocations with CODE
//                       a body "status=NNN" answers NNN; "units=N" adds
//                       X-Amzn-Inference-Metering with ConsumedUnits N
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int Fail(const std::string& what, int err) {
  std::printf("%s failed: %s (%s)\n", what.c_str(), strerrorname_np(err), strerror(err));
  return 2;
}

// IPv4 literal, or the first address /etc/hosts gives NAME.
bool Lookup(const std::string& name, in_addr* out) {
  if (inet_pton(AF_INET, name.c_str(), out) == 1) return true;
  std::ifstream hosts("/etc/hosts");
  std::string line;
  while (std::getline(hosts, line)) {
    std::istringstream in(line);
    std::string addr, alias;
    in >> addr;
    while (in >> alias) {
      if (alias == name && inet_pton(AF_INET, addr.c_str(), out) == 1) return true;
    }
  }
  return false;
}

int Connect(const std::string& host, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (!Lookup(host, &sa.sin_addr)) return Fail("resolve " + host, ENOENT);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    if (errno != EINPROGRESS) return Fail("connect", errno);
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 2000) != 1) return Fail("connect", ETIMEDOUT);
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Fail("connect", err);
  }
  std::printf("connected to %s:%d\n", host.c_str(), port);
  return 0;
}

int Resolve(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc == 0) {
    char buf[INET_ADDRSTRLEN];
    auto* sa = reinterpret_cast<sockaddr_in*>(res->ai_addr);
    std::printf("resolved %s to %s\n", name.c_str(),
                inet_ntop(AF_INET, &sa->sin_addr, buf, sizeof(buf)));
    freeaddrinfo(res);
    return 0;
  }
  in_addr a;
  if (Lookup(name, &a)) {
    std::printf("resolved %s to %s (hosts)\n", name.c_str(), inet_ntoa(a));
    return 0;
  }
  std::printf("resolve failed: %s\n", gai_strerror(rc));
  return 2;
}

int Read(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return Fail("read " + path, errno);
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  if (n < 0) return Fail("read " + path, errno);
  buf[n] = 0;
  std::printf("read %s: %s\n", path.c_str(), buf);
  return 0;
}

int Write(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Fail("write " + path, errno);
  if (write(fd, "probe\n", 6) != 6) return Fail("write " + path, errno);
  close(fd);
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

void ExitOnTerm(int) { _exit(0); }

int Listen(int port, const std::string& host) {
  signal(SIGTERM, ExitOnTerm);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (!Lookup(host, &sa.sin_addr)) return Fail("resolve " + host, ENOENT);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return Fail("bind", errno);
  if (listen(fd, 64) != 0) return Fail("listen", errno);
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  while (true) {
    int c = accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      req.append(buf, n);
    }
    const char kResp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)!write(c, kResp, sizeof(kResp) - 1);
    close(c);
    std::printf("served %s\n", req.substr(0, req.find("\r\n")).c_str());
    std::fflush(stdout);
  }
}

int Ps() {
  std::string out;
  DIR* d = opendir("/proc");
  if (!d) return Fail("opendir /proc", errno);
  int count = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    out += std::string(" ") + e->d_name;
    ++count;
  }
  closedir(d);
  std::printf("pids:%s\ncount: %d\n", out.c_str(), count);
  return 0;
}

int Hog(long mb) {
  std::vector<char*> blocks;
  for (long i = 0; i < mb; ++i) {
    char* p = static_cast<char*>(std::malloc(1 << 20));
    if (!p) return Fail("malloc", ENOMEM);
    memset(p, static_cast<int>(i), 1 << 20);
    blocks.push_back(p);
    if (i % 16 == 0) {
      std::printf("allocated %ld MiB\n", i);
      std::fflush(stdout);
    }
  }
  std::printf("hogged %ld MiB\n", mb);
  return 0;
}

int Sleep(long seconds) {
  signal(SIGTERM, ExitOnTerm);
  std::printf("sleeping\n");
  std::fflush(stdout);
  if (seconds <= 0) {
    while (true) pause();
  }
  sleep(static_cast<unsigned>(seconds));
  return 0;
}

int SpawnAndSleep(int n) {
  signal(SIGTERM, SIG_IGN);
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      while (true) pause();
    }
    std::printf("spawned %d\n", pid);
  }
  std::printf("spawned all\n");
  std::fflush(stdout);
  while (true) pause();
}

std::string Env(const char* name, const char* dflt = "") {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string(dflt);
}

std::atomic<long> g_served{0};

// One keep-alive connection of `serve`: reads requests (Content-Length bodies only) and
// answers each as the PROBE_* environment says.
void ServeConnection(int c) {
  const std::string ping_mode = Env("PROBE_PING");
  const long sleep_s = std::atol(Env("PROBE_SLEEP", "0").c_str());
  const int status = std::atoi(Env("PROBE_STATUS", "200").c_str());
  char host[256] = "probe";
  gethostname(host, sizeof(host) - 1);
  std::string buf;
  char chunk[65536];
  while (true) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = read(c, chunk, sizeof(chunk));
      if (n <= 0) {
        close(c);
        return;
      }
      buf.append(chunk, n);
    }
    std::string head = buf.substr(0, end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    size_t length = 0;
    if (size_t p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
      length = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
    }
    while (buf.size() < end + 4 + length) {
      ssize_t n = read(c, chunk, sizeof(chunk));
      if (n <= 0) {
        close(c);
        return;
      }
      buf.append(chunk, n);
    }
    std::string body = buf.substr(end + 4, length);
    buf.erase(0, end + 4 + length);
    std::string line = head.substr(0, head.find("\r\n"));
    int code = 200;
    std::string answer;
    std::string extra;  // more response header lines
    if (line.rfind("GET /ping", 0) == 0) {
      if (ping_mode == "hang") {
        std::printf("not answering %s\n", line.c_str());
        while (true) pause();
      }
      code = ping_mode == "fail" ? 500 : 200;
      answer = code == 200 ? "healthy" : "unhealthy";
    } else if (line.rfind("POST /invocations", 0) == 0) {
      long n = ++g_served;
      std::printf("invocation %ld on %s: %zu bytes: %s\n", n, host, body.size(),
                  body.substr(0, 64).c_str());
      if (sleep_s > 0) sleep(static_cast<unsigned>(sleep_s));
      code = status;
      // Per-request overrides (metering tests): a body "status=NNN" answers NNN, and
      // "units=N" bills N inferences through X-Amzn-Inference-Metering.
      if (body.rfind("status=", 0) == 0) code = std::atoi(body.c_str() + 7);
      if (body.rfind("units=", 0) == 0) {
        extra =
            "X-Amzn-Inference-Metering: {\"Dimension\":\"inference.count\","
            "\"ConsumedUnits\":" +
            std::to_string(std::atol(body.c_str() + 6)) + "}\r\n";
      }
      answer = code == 200 ? std::string(host) + ":" + body : "probe failed on purpose";
    } else {
      code = 404;
      answer = "not found";
    }
    std::string resp = "HTTP/1.1 " + std::to_string(code) + (code == 200 ? " OK" : " Error") +
                       "\r\nContent-Type: text/plain\r\n" + extra +
                       "Content-Length: " + std::to_string(answer.size()) + "\r\n\r\n" + answer;
    if (write(c, resp.data(), resp.size()) != static_cast<ssize_t>(resp.size())) {
      close(c);
      return;
    }
  }
}

int Serve() {
  signal(SIGTERM, ExitOnTerm);
  signal(SIGPIPE, SIG_IGN);
  int port = std::atoi(Env("SAGEMAKER_BIND_TO_PORT", "8080").c_str());
  if (long after = std::atol(Env("PROBE_EXIT_AFTER", "0").c_str()); after > 0) {
    std::thread([after] {
      sleep(static_cast<unsigned>(after));
      std::printf("exiting after %ld seconds on purpose\n", after);
      std::fflush(stdout);
      _exit(3);
    }).detach();
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return Fail("bind", errno);
  if (listen(fd, 128) != 0) return Fail("listen", errno);
  std::printf("serving on port %d\n", port);
  while (true) {
    int c = accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    std::thread(ServeConnection, c).detach();
  }
}

// The value of "key":"..." or the text of "key":[...] in compact JSON.
std::string JsonField(const std::string& json, const std::string& key, char close) {
  size_t p = json.find("\"" + key + "\":");
  if (p == std::string::npos) return "";
  p += key.size() + 4;
  size_t end = json.find(close, p);
  return end == std::string::npos ? "" : json.substr(p, end - p);
}

int Train() {
  signal(SIGTERM, ExitOnTerm);
  if (long s = std::atol(Env("PROBE_TRAIN_SLEEP", "0").c_str()); s > 0) {
    std::printf("sleeping %ld seconds\n", s);
    sleep(static_cast<unsigned>(s));
  }
  std::ifstream in("/opt/ml/input/config/resourceconfig.json");
  std::string rc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string me = JsonField(rc, "current_host", '"');
  std::string hosts = JsonField(rc, "hosts", ']');
  int peers = -1;
  for (size_t p = hosts.find("algo-"); p != std::string::npos; p = hosts.find("algo-", p + 1)) {
    ++peers;
  }
  if (me.empty() || peers < 0) return Fail("read resourceconfig.json", ENOENT);
  if (me == "algo-1") {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(7777);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return Fail("bind", errno);
    if (listen(fd, 16) != 0) return Fail("listen", errno);
    for (int i = 0; i < peers; ++i) {
      int c = accept(fd, nullptr, nullptr);
      if (c < 0) return Fail("accept", errno);
      char buf[64] = {};
      ssize_t n = read(c, buf, sizeof(buf) - 1);
      std::printf("%s\n", n > 0 ? buf : "(nothing)");
      close(c);
    }
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(7777);
    if (!Lookup("algo-1", &sa.sin_addr)) return Fail("resolve algo-1", ENOENT);
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 600; ++attempt) {
      fd = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        close(fd);
        fd = -1;
        usleep(100000);
      }
    }
    if (fd < 0) return Fail("connect algo-1", ETIMEDOUT);
    std::string hello = "hello from " + me;
    if (write(fd, hello.data(), hello.size()) < 0) return Fail("write", errno);
    close(fd);
  }
  std::ofstream("/opt/ml/model/" + me + ".txt") << "ok\n";
  std::printf("probe-peers: %d\n", peers);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty()) return 1;
  const std::string& cmd = a[0];
  auto arg = [&](size_t i, const char* dflt) { return a.size() > i ? a[i] : std::string(dflt); };
  if (cmd == "connect" && a.size() == 3) return Connect(a[1], std::atoi(a[2].c_str()));
  if (cmd == "resolve" && a.size() == 2) return Resolve(a[1]);
  if (cmd == "read" && a.size() == 2) return Read(a[1]);
  if (cmd == "write" && a.size() == 2) return Write(a[1]);
  if (cmd == "listen" && a.size() >= 2) return Listen(std::atoi(a[1].c_str()), arg(2, "0.0.0.0"));
  if (cmd == "ps") return Ps();
  if (cmd == "hog" && a.size() == 2) return Hog(std::atol(a[1].c_str()));
  if (cmd == "sleep") return Sleep(std::atol(arg(1, "0").c_str()));
  if (cmd == "spawn-and-sleep") return SpawnAndSleep(std::atoi(arg(1, "2").c_str()));
  if (cmd == "serve") return Serve();
  if (cmd == "train") return Train();
  if (cmd == "echo") {
    for (size_t i = 1; i < a.size(); ++i) std::printf("%s\n", a[i].c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "done\n");
    return 0;
  }
  std::fprintf(stderr,
               "usage: sandbox_probe connect|resolve|read|write|listen|ps|hog|sleep|"
               "spawn-and-sleep|echo|serve|train ...\n");
  return 1;
}
