#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace mercato::http {
namespace {

namespace bhttp = boost::beast::http;
using std::chrono::seconds;

// Peers closing mid-write must not kill the test with SIGPIPE (the OpenSSL client).
const bool kIgnoreSigpipe = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

uint64_t Fnv1a(uint64_t h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}
constexpr uint64_t kFnvInit = 14695981039346656037ull;
constexpr uint64_t kSize = 50ull << 20;  // the large streaming tests

char PatternByte(uint64_t i) { return static_cast<char>((i * 131 + (i >> 12)) & 0xff); }

std::string Pattern(uint64_t n) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = PatternByte(i);
  return s;
}

// A generated body of `total` bytes; reports its size only when `sized`.
class PatternSource : public BodySource {
 public:
  PatternSource(uint64_t total, bool sized) : total_(total), sized_(sized) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, total_ - pos_));
    for (size_t i = 0; i < k; ++i) buf[i] = PatternByte(pos_ + i);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> size() const override {
    return sized_ ? std::optional<uint64_t>(total_) : std::nullopt;
  }

 private:
  uint64_t total_, pos_ = 0;
  bool sized_;
};

class FnHandler : public Handler {
 public:
  explicit FnHandler(std::function<Response(Request&, BodyReader&)> fn) : fn_(std::move(fn)) {}
  Response Handle(Request& request, BodyReader& body) override { return fn_(request, body); }

 private:
  std::function<Response(Request&, BodyReader&)> fn_;
};

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

// A blocking test client on a raw socket (optionally TLS via OpenSSL) with 30 s socket
// timeouts, so a misbehaving server fails a test instead of hanging it.
class Client {
 public:
  static std::unique_ptr<Client> Connect(uint16_t port, SSL_CTX* tls = nullptr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return nullptr;
    }
    auto client = std::unique_ptr<Client>(new Client(fd));
    if (tls) {
      client->ssl_ = SSL_new(tls);
      SSL_set_fd(client->ssl_, fd);
      SSL_set_tlsext_host_name(client->ssl_, "localhost");
      SSL_set1_host(client->ssl_, "localhost");
      if (SSL_connect(client->ssl_) != 1) return nullptr;
    }
    return client;
  }
  ~Client() {
    if (ssl_) SSL_free(ssl_);
    close(fd_);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ssl_ ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                       : send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // > 0 bytes, 0 at EOF, < 0 on error or timeout.
  ssize_t Recv(char* buf, size_t n) {
    if (!pending_.empty()) {
      size_t k = std::min(n, pending_.size());
      memcpy(buf, pending_.data(), k);
      pending_.erase(0, k);
      return static_cast<ssize_t>(k);
    }
    if (ssl_) {
      int r = SSL_read(ssl_, buf, static_cast<int>(n));
      if (r > 0) return r;
      return SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN ? 0 : (errno == 0 ? 0 : -1);
    }
    return recv(fd_, buf, n, 0);
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  // Reads until EOF; false on error or timeout.
  bool DrainToEof() {
    char buf[4096];
    for (;;) {
      ssize_t n = Recv(buf, sizeof(buf));
      if (n <= 0) return n == 0;
    }
  }
  bool AtEof() {
    char c;
    return Recv(&c, 1) == 0;
  }
  // Reads exactly through the next blank line (an interim response like 100 Continue).
  std::string ReadHead() {
    std::string out;
    char c;
    while (out.find("\r\n\r\n") == std::string::npos && out.size() < 65536) {
      if (Recv(&c, 1) != 1) break;
      out.push_back(c);
    }
    return out;
  }
  std::optional<ParsedResponse> Read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(
        std::numeric_limits<std::uint64_t>::max());  // not none: see server_connection.h
    parser.skip(head);
    std::vector<char> buf(65536);
    for (;;) {
      if (!pending_.empty()) {
        boost::beast::error_code ec;
        size_t used = parser.put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec && ec != bhttp::error::need_more) {
          return std::nullopt;
        }
        if (parser.is_done()) break;
        if (used > 0 && !pending_.empty()) continue;
      }
      ssize_t n = ssl_ ? Recv(buf.data(), buf.size()) : recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) {
        if (n == 0 && parser.is_header_done() && parser.need_eof()) {
          boost::beast::error_code ec;
          parser.put_eof(ec);
          if (!ec) break;
        }
        return std::nullopt;
      }
      pending_.append(buf.data(), static_cast<size_t>(n));
    }
    ParsedResponse out;
    auto& msg = parser.get();
    out.status = msg.result_int();
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(msg.body());
    return out;
  }
  // Like RoundTrip, but a failure yields an empty response (status 0) and a test failure.
  ParsedResponse Fetch(std::string_view request) {
    std::optional<ParsedResponse> resp = RoundTrip(request);
    if (!resp) ADD_FAILURE() << "no response to " << request.substr(0, 60);
    return resp.value_or(ParsedResponse());
  }
  // Sends a request and reads its response.
  std::optional<ParsedResponse> RoundTrip(std::string_view request, bool head = false) {
    if (!Send(request)) return std::nullopt;
    return Read(head);
  }

 private:
  explicit Client(int fd) : fd_(fd) {}
  int fd_;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

std::string Get(std::string_view target, std::string_view extra = "") {
  return fmt::format("GET {} HTTP/1.1\r\nHost: localhost\r\n{}\r\n", target, extra);
}
std::string Post(std::string_view target, std::string_view body) {
  return fmt::format("POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{}", target,
                     body.size(), body);
}

Response Echo(Request& request, BodyReader& body) {
  absl::StatusOr<std::string> all = body.ReadAll(1 << 20);
  if (!all.ok()) return Response::Text(400, std::string(all.status().message()));
  return Response::Text(200, *all);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(std::function<Response(Request&, BodyReader&)> fn, ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.io_threads == 0) options.io_threads = 2;
    if (options.max_workers == 64) options.max_workers = 8;
    handler_ = std::make_unique<FnHandler>(std::move(fn));
    auto server = Server::Create(options, *handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(5));
  }
  std::unique_ptr<Client> Connect() { return Client::Connect(server_->port()); }

  std::unique_ptr<FnHandler> handler_;
  ServerPtr server_;
};

TEST_F(HttpServerTest, KeepAliveGet) {
  Start([](Request& r, BodyReader&) {
    return Response::Text(
        200, fmt::format("{} {} {} x={} y={} h={} tls={} remote={}", r.method, r.path, r.raw_query,
                         r.QueryParam("x").value_or("-"), r.QueryParam("y").value_or("-"),
                         r.Header("X-TEST"), r.tls, r.remote_address.rfind("127.0.0.1:", 0) == 0));
  });
  auto client = Connect();
  ASSERT_TRUE(client);
  for (int i = 0; i < 2; ++i) {
    auto resp = client->RoundTrip(Get("/a%20b?x=1%2B2&y", "X-Test: v\r\n"));
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "GET /a b x=1%2B2&y x=1+2 y= h=v tls=false remote=true");
    EXPECT_EQ(resp->headers["server"], "Mercato");
    EXPECT_EQ(resp->headers["content-type"], "text/plain");
    EXPECT_EQ(resp->headers.count("connection"), 0u);
  }
}

TEST_F(HttpServerTest, PipelinedRequests) {
  Start([](Request& r, BodyReader& b) { return Echo(r, b); });
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/", "one") + Post("/", "two") + Get("/")));
  EXPECT_EQ(client->Read().value_or(ParsedResponse()).body, "one");
  EXPECT_EQ(client->Read().value_or(ParsedResponse()).body, "two");
  EXPECT_EQ(client->Read().value_or(ParsedResponse()).body, "");
}

TEST_F(HttpServerTest, PostWithContentLength) {
  std::atomic<uint64_t> seen_length{0};
  Start([&](Request& r, BodyReader& b) {
    seen_length = b.content_length().value_or(0);
    return Echo(r, b);
  });
  auto client = Connect();
  auto resp = client->RoundTrip(Post("/echo", "hello world"));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, "hello world");
  EXPECT_EQ(seen_length, 11u);
}

TEST_F(HttpServerTest, ReadAllLimit) {
  Start([](Request& r, BodyReader& b) {
    auto all = b.ReadAll(4);
    return Response::Text(all.ok() ? 200 : 413, all.ok() ? *all : all.status().ToString());
  });
  auto client = Connect();
  EXPECT_EQ(client->Fetch(Post("/", "abcd")).status, 200);
  EXPECT_EQ(client->Fetch(Post("/", "abcde")).status, 413);
  ParsedResponse chunked = client->Fetch(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 413);
  EXPECT_NE(chunked.body.find("RESOURCE_EXHAUSTED"), std::string::npos);
}

TEST_F(HttpServerTest, ChunkedRequestBody) {
  Start([](Request& r, BodyReader& b) { return Echo(r, b); });
  auto client = Connect();
  auto resp = client->RoundTrip(
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, "hello world");
  EXPECT_EQ(client->Fetch(Post("/", "again")).body, "again");
}

TEST_F(HttpServerTest, MalformedChunkedBodyIsAnError) {
  Start([](Request& r, BodyReader& b) { return Echo(r, b); });
  auto client = Connect();
  auto resp = client->RoundTrip(
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 400);
  EXPECT_EQ(resp->headers["connection"], "close");
}

TEST_F(HttpServerTest, ExpectContinue) {
  Start([](Request& r, BodyReader& b) { return Echo(r, b); });
  auto client = Connect();
  ASSERT_TRUE(client->Send(
      "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_EQ(client->ReadHead(), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client->Send("hello"));
  auto resp = client->Read();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, "hello");
}

TEST_F(HttpServerTest, StreamsLargeResponses) {
  Start([](Request& r, BodyReader&) {
    Response resp;
    resp.stream = std::make_unique<PatternSource>(kSize, r.path == "/sized");
    return resp;
  });
  const std::string expected = Pattern(kSize);
  auto client = Connect();
  for (const char* path : {"/sized", "/chunked"}) {
    auto resp = client->RoundTrip(Get(path));
    ASSERT_TRUE(resp) << path;
    EXPECT_EQ(resp->body.size(), kSize);
    EXPECT_EQ(Fnv1a(kFnvInit, resp->body.data(), resp->body.size()),
              Fnv1a(kFnvInit, expected.data(), expected.size()));
    if (std::string(path) == "/sized") {
      EXPECT_EQ(resp->headers["content-length"], std::to_string(kSize));
    } else {
      EXPECT_EQ(resp->headers["transfer-encoding"], "chunked");
    }
  }
}

TEST_F(HttpServerTest, StreamsLargeRequests) {
  Start([](Request& r, BodyReader& b) {
    std::vector<char> buf(100000);  // not a multiple of anything the server uses
    uint64_t total = 0, hash = kFnvInit;
    for (;;) {
      auto n = b.Read(buf.data(), buf.size());
      if (!n.ok()) return Response::Text(500, n.status().ToString());
      if (*n == 0) break;
      total += *n;
      hash = Fnv1a(hash, buf.data(), *n);
    }
    return Response::Text(200, fmt::format("{} {}", total, hash));
  });
  const std::string body = Pattern(kSize);
  const std::string want = fmt::format("{} {}", kSize, Fnv1a(kFnvInit, body.data(), body.size()));
  auto client = Connect();
  auto resp = client->RoundTrip(Post("/upload", body));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, want);

  // The same body chunked, in 1 MiB chunks.
  std::string chunked = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_TRUE(client->Send(chunked));
  for (uint64_t off = 0; off < kSize; off += 1 << 20) {
    ASSERT_TRUE(client->Send(fmt::format("{:x}\r\n", 1 << 20)));
    ASSERT_TRUE(client->Send(std::string_view(body).substr(off, 1 << 20)));
    ASSERT_TRUE(client->Send("\r\n"));
  }
  ASSERT_TRUE(client->Send("0\r\n\r\n"));
  resp = client->Read();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, want);
}

TEST_F(HttpServerTest, Head) {
  Start([](Request& r, BodyReader&) {
    Response resp = Response::Text(200, "body");
    if (r.method == "HEAD") {
      resp.body.clear();
      resp.head_content_length = 12345;
    }
    return resp;
  });
  auto client = Connect();
  auto head = client->RoundTrip("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], "12345");
  EXPECT_EQ(head->body, "");
  // No body bytes were sent: the next response on the connection parses cleanly.
  EXPECT_EQ(client->Fetch(Get("/x")).body, "body");
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  Start([](Request& r, BodyReader& b) { return Echo(r, b); });
  for (const std::string& bad : std::vector<std::string>{
           "GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", std::string("\0\1\2\r\n\r\n", 7)}) {
    auto client = Connect();
    auto resp = client->RoundTrip(bad);
    ASSERT_TRUE(resp) << bad;
    EXPECT_EQ(resp->status, 400) << bad;
    EXPECT_EQ(resp->headers["connection"], "close");
    EXPECT_TRUE(client->AtEof());
  }
  EXPECT_EQ(Connect()->Fetch(Post("/", "ok")).body, "ok");
}

TEST_F(HttpServerTest, SurvivesRandomInput) {
  Start([](Request& r, BodyReader& b) {
    auto body = b.ReadAll(1 << 20);
    return Response::Text(200, body.ok() ? "ok" : "bad");
  });
  std::mt19937 rng(42);
  const std::vector<std::string> prefixes = {
      "", "GET / HTTP/1.1\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "PUT /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"};
  for (int i = 0; i < 200; ++i) {
    std::string input = prefixes[i % prefixes.size()];
    const size_t n = rng() % 300;
    for (size_t k = 0; k < n; ++k) {
      // Mostly printable, with CR/LF and the odd control byte, to get past the first line.
      uint32_t r = rng() % 100;
      input.push_back(r < 8    ? '\r'
                      : r < 16 ? '\n'
                      : r < 18 ? static_cast<char>(rng() % 256)
                               : static_cast<char>(' ' + rng() % 95));
    }
    auto client = Connect();
    ASSERT_TRUE(client);
    client->Send(input);
    client->ShutdownWrite();
    EXPECT_TRUE(client->DrainToEof()) << i;
  }
  EXPECT_EQ(Connect()->Fetch(Get("/")).body, "ok");
}

TEST_F(HttpServerTest, HeadersTooLargeGet431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  Start([](Request& r, BodyReader& b) { return Echo(r, b); }, options);
  auto client = Connect();
  auto resp = client->RoundTrip(Get("/", "X-Big: " + std::string(4000, 'a') + "\r\n"));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 431);
  EXPECT_TRUE(client->AtEof());
}

TEST_F(HttpServerTest, HandlerRejectsWithoutReadingBody) {
  Start([](Request& r, BodyReader&) {
    if (r.path == "/reject") return Response::Text(403, "no");
    return Response::Text(200, "ok");
  });
  // A small unread body is drained, so the connection stays usable.
  auto client = Connect();
  EXPECT_EQ(client->Fetch(Post("/reject", std::string(100, 'x'))).status, 403);
  EXPECT_EQ(client->Fetch(Get("/ok")).status, 200);

  // A large unread body closes the connection, after the client has the response.
  client = Connect();
  std::string big = Post("/reject", std::string(4 << 20, 'x'));
  std::thread sender([&] { client->Send(big); });
  auto resp = client->Read();
  sender.join();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 403);
  EXPECT_EQ(resp->headers["connection"], "close");

  // With Expect: 100-continue the body is never requested.
  client = Connect();
  auto rejected = client->RoundTrip(
      "PUT /reject HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 403);
  EXPECT_TRUE(client->AtEof());
}

TEST_F(HttpServerTest, Http10ClosesAfterResponse) {
  Start([](Request& r, BodyReader&) {
    Response resp;
    resp.stream = std::make_unique<PatternSource>(1000, /*sized=*/false);
    return resp;
  });
  auto client = Connect();
  auto resp = client->RoundTrip("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(resp);
  EXPECT_TRUE(resp->body == Pattern(1000));
  EXPECT_TRUE(client->AtEof());
}

TEST_F(HttpServerTest, ConnectionCloseFromClientAndHandler) {
  Start([](Request& r, BodyReader&) {
    Response resp = Response::Text(200, "bye");
    resp.close_connection = r.path == "/close";
    return resp;
  });
  auto client = Connect();
  EXPECT_EQ(client->Fetch(Get("/", "Connection: close\r\n")).headers["connection"], "close");
  EXPECT_TRUE(client->AtEof());
  client = Connect();
  EXPECT_EQ(client->Fetch(Get("/close")).headers["connection"], "close");
  EXPECT_TRUE(client->AtEof());
}

TEST_F(HttpServerTest, ConcurrentClients) {
  ServerOptions options;
  options.max_workers = 4;  // fewer workers than clients: requests queue
  Start([](Request& r, BodyReader& b) { return Echo(r, b); }, options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      auto client = Connect();
      for (int i = 0; i < 50 && client; ++i) {
        std::string body = fmt::format("client {} request {}", t, i);
        auto resp = client->RoundTrip(Post("/", body));
        if (resp && resp->body == body) ++ok;
        if (i % 10 == 9) client = Connect();  // some fresh connections too
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1000);
}

TEST_F(HttpServerTest, ShutdownCompletesInFlightRequest) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Start([&](Request& r, BodyReader&) {
    if (r.path == "/slow") {
      entered.set_value();
      released.wait_for(seconds(30));
      return Response::Text(200, "done");
    }
    return Response::Text(200, "fast");
  });
  auto idle = Connect();
  EXPECT_EQ(idle->Fetch(Get("/")).body, "fast");
  auto slow = Connect();
  ASSERT_TRUE(slow->Send(Get("/slow")));
  ASSERT_EQ(entered.get_future().wait_for(seconds(30)), std::future_status::ready);

  std::thread shutdown([&] { server_->Shutdown(absl::Seconds(30)); });
  // The idle keep-alive connection is closed and new connections are refused...
  EXPECT_TRUE(idle->AtEof());
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    refused = Connect() == nullptr;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  // ...while the request in flight completes.
  release.set_value();
  auto resp = slow->Read();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, "done");
  EXPECT_EQ(resp->headers["connection"], "close");
  shutdown.join();
  server_->Wait();
  server_->Shutdown();  // idempotent
}

TEST_F(HttpServerTest, SlowClientTimesOutAndFreesTheWorker) {
  ServerOptions options;
  options.io_timeout = absl::Milliseconds(200);
  options.idle_timeout = absl::Milliseconds(300);
  options.max_workers = 1;
  std::promise<absl::Status> body_status;
  Start(
      [&](Request& r, BodyReader& b) {
        if (r.path == "/upload") body_status.set_value(b.ReadAll(1 << 20).status());
        return Response::Text(200, "ok");
      },
      options);
  auto loris = Connect();
  ASSERT_TRUE(loris->Send("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc"));
  auto future = body_status.get_future();
  ASSERT_EQ(future.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(future.get().code(), absl::StatusCode::kDeadlineExceeded);
  // The only worker is free again.
  EXPECT_EQ(Connect()->Fetch(Get("/")).body, "ok");
  // A connection that never sends a request is closed after the idle timeout.
  EXPECT_TRUE(Connect()->AtEof());
}

TEST(HttpServerCreateTest, PortInUse) {
  FnHandler handler([](Request&, BodyReader&) { return Response::Text(200, ""); });
  ServerOptions options;
  options.port = 0;
  auto first = Server::Create(options, handler);
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  auto second = Server::Create(options, handler);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("is in use"), std::string::npos) << second.status();
  (*first)->Shutdown();
}

class HttpTlsTest : public HttpServerTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("mercato_tls_test_{}_{}", getpid(), reinterpret_cast<uintptr_t>(this));
    std::filesystem::create_directories(dir_);
    std::string cmd = fmt::format(
        "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
        "subjectAltName=DNS:localhost -days 1 -keyout {0}/key.pem -out {0}/cert.pem "
        ">/dev/null 2>&1",
        dir_.string());
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl CLI unavailable";
  }
  void TearDown() override {
    HttpServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(HttpTlsTest, RoundTrip) {
  ServerOptions options;
  options.tls_cert_file = (dir_ / "cert.pem").string();
  options.tls_key_file = (dir_ / "key.pem").string();
  Start(
      [](Request& r, BodyReader& b) {
        auto body = b.ReadAll(8 << 20);
        return Response::Text(200, fmt::format("tls={} {}", r.tls, *body));
      },
      options);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, options.tls_cert_file.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  {
    auto client = Client::Connect(server_->port(), ctx);
    ASSERT_TRUE(client);
    EXPECT_EQ(client->Fetch(Get("/")).body, "tls=true ");
    EXPECT_EQ(client->Fetch(Post("/", "small")).body, "tls=true small");
    for (size_t n : {20000, 70000, 200000}) {
      std::string mid = Pattern(n);
      EXPECT_TRUE(client->Fetch(Post("/", mid)).body == "tls=true " + mid) << n;
    }
    std::string big = Pattern(3 << 20);
    EXPECT_TRUE(client->Fetch(Post("/", big)).body == "tls=true " + big);
  }
  SSL_CTX_free(ctx);
}

TEST_F(HttpTlsTest, CreateRejectsBadFiles) {
  FnHandler handler([](Request&, BodyReader&) { return Response::Text(200, ""); });
  ServerOptions options;
  options.port = 0;
  options.tls_cert_file = (dir_ / "missing.pem").string();
  options.tls_key_file = (dir_ / "key.pem").string();
  auto missing = Server::Create(options, handler);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);

  std::ofstream(dir_ / "garbage.pem") << "not a certificate\n";
  options.tls_cert_file = (dir_ / "garbage.pem").string();
  auto garbage = Server::Create(options, handler);
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument) << garbage.status();
}

TEST(HttpMessageTest, PercentCoding) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc%zz%4"), "a b/c%zz%4");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(UriEncode("a b/c~-._*é", false), "a%20b%2Fc~-._%2A%C3%A9");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
}

TEST(HttpMessageTest, RequestAccessors) {
  Request r;
  r.raw_query = "b=2&a&c=x%20y&&b=3";
  r.headers = {{"content-type", "text/plain"}, {"x-a", "1"}, {"x-a", "2"}};
  auto params = r.QueryParams();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>{"a", ""}));
  EXPECT_EQ(r.QueryParam("b"), "2");
  EXPECT_EQ(r.QueryParam("c"), "x y");
  EXPECT_EQ(r.QueryParam("d"), std::nullopt);
  EXPECT_EQ(r.Header("X-A"), "1");
  EXPECT_TRUE(r.HasHeader("Content-Type"));
  EXPECT_FALSE(r.HasHeader("missing"));
  EXPECT_EQ(r.Header("missing"), "");

  Response resp = Response::Json(201, "{}");
  resp.SetHeader("content-type", "application/x-amz-json-1.1");
  resp.SetHeader("ETag", "\"e\"");
  ASSERT_EQ(resp.headers.size(), 2u);
  EXPECT_EQ(resp.headers[0].second, "application/x-amz-json-1.1");
  EXPECT_EQ(resp.status, 201);
}

}  // namespace
}  // namespace mercato::http
