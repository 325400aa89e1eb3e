// HTTP messages as Mercato's handlers see them, independent of Beast.
//
// A Request holds what arrived before the body: method, the raw target (SigV4 signs the
// raw path and query), and headers with lower-cased names. The body is read through a
// BodyReader, so handlers stream large uploads instead of buffering them. A Response
// carries either a small in-memory body or a BodySource the server streams from.
// Not thread-safe; a request and its response belong to the one thread handling them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mercato::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;     // "GET", "PUT", ...
  std::string target;     // raw request-target, e.g. "/bucket/a%20b?list-type=2"
  std::string raw_path;   // target before '?', still percent-encoded
  std::string raw_query;  // target after '?', still percent-encoded ("" if none)
  std::string path;       // raw_path percent-decoded
  Headers headers;        // names lower-cased, in arrival order
  std::string remote_address;
  bool tls = false;

  // First value of a header (name in any case), or "" if absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // Decoded query parameters in order; a parameter without '=' has an empty value.
  std::vector<std::pair<std::string, std::string>> QueryParams() const;
  std::optional<std::string> QueryParam(std::string_view name) const;
};

// The request body, read incrementally. An `Expect: 100-continue` is answered on the
// first Read(), so a handler that rejects a request without reading never receives it.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to n bytes; returns 0 at the end of the body. Errors: the client closed or
  // timed out (Unavailable/DeadlineExceeded), malformed chunked encoding (InvalidArgument).
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // The Content-Length, if the client sent one.
  virtual std::optional<uint64_t> content_length() const = 0;
  // Reads the rest of the body; ResourceExhausted if it is longer than `limit` bytes.
  absl::StatusOr<std::string> ReadAll(size_t limit);
};

// A streamed response body.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Fills up to n bytes; returns 0 at the end. An error aborts the connection (the
  // status line is already sent, so the client sees a truncated body).
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Total length when known (sent as Content-Length), else chunked encoding is used.
  virtual std::optional<uint64_t> size() const = 0;
};
using BodySourcePtr = std::unique_ptr<BodySource>;

struct Response {
  int status = 200;
  Headers headers;       // names as they should appear on the wire
  std::string body;      // used when `stream` is null
  BodySourcePtr stream;  // streamed body, if set
  bool close_connection = false;
  // A HEAD response: headers (including Content-Length) but no body bytes are written.
  std::optional<uint64_t> head_content_length;

  void SetHeader(std::string name, std::string value);
  static Response Text(int status, std::string body, std::string content_type = "text/plain");
  static Response Json(int status, std::string body);
};

// Percent-decoding (`%2F` → `/`; `+` is kept unless `plus_as_space`). Invalid escapes
// are left as they are.
std::string PercentDecode(std::string_view s, bool plus_as_space = false);
// RFC 3986 unreserved-set encoding as SigV4 and S3 use it; `/` kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace mercato::http
