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

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
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
  if (cmd == "echo") {
    for (size_t i = 1; i < a.size(); ++i) std::printf("%s\n", a[i].c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "done\n");
    return 0;
  }
  std::fprintf(stderr,
               "usage: sandbox_probe connect|resolve|read|write|listen|ps|hog|sleep|"
               "spawn-and-sleep|echo ...\n");
  return 1;
}
