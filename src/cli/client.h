// A small blocking HTTP/1.1 client for the mercato CLI (Boost.Beast), speaking the native
// API with a bearer token. One connection per call; http:// and https:// endpoints.
// Uploads (SendFile/CallWithFile) stream a file from disk and downloads (Download) stream
// to disk, so image archives of any size never sit in memory.
// Const methods keep no state between calls, so one Client may be shared by threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace mercato::cli {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
};

// A non-2xx reply as a status carrying the API's error code and message.
absl::Status StatusFromReply(const HttpResult& result);

class Client {
 public:
  // endpoint: "http://127.0.0.1:8600" (a trailing slash is fine).
  static absl::StatusOr<Client> Create(std::string_view endpoint, std::string token);

  // Sends a request; Unavailable if the server cannot be reached.
  absl::StatusOr<HttpResult> Send(std::string_view method, std::string_view target,
                                  std::string_view body = {},
                                  std::string_view content_type = "application/json") const;
  // Sends JSON and decodes a JSON reply; a non-2xx reply becomes a status carrying the
  // API's error code and message.
  absl::StatusOr<Json> Call(std::string_view method, std::string_view target,
                            const Json& body = nullptr) const;

  // Sends any request with extra headers (no Authorization is added if `headers` has one);
  // the reply is returned whatever its status.
  absl::StatusOr<HttpResult> SendRaw(
      std::string_view method, std::string_view target,
      const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) const;
  // Streams the file at `path` as the body.
  absl::StatusOr<HttpResult> SendFile(
      std::string_view method, std::string_view target, const std::string& path,
      std::string_view content_type = "application/octet-stream") const;
  // SendFile, decoding a JSON reply like Call().
  absl::StatusOr<Json> CallWithFile(
      std::string_view method, std::string_view target, const std::string& path,
      std::string_view content_type = "application/octet-stream") const;
  // GETs `target` and writes a 2xx body to `out_path` as it arrives; other replies become
  // a status as in Call() and leave no file.
  absl::Status Download(std::string_view target, const std::string& out_path) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  Client() = default;
  template <typename Fn>
  absl::StatusOr<HttpResult> WithStream(const Fn& fn) const;
  std::string endpoint_;
  std::string host_;
  std::string port_;
  bool tls_ = false;
  std::string token_;
};

}  // namespace mercato::cli
