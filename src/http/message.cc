#include "http/message.h"

#include <algorithm>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace mercato::http {
namespace {

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

bool Request::HasHeader(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [name](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

// '+' is decoded as a space, as in application/x-www-form-urlencoded query strings (S3
// treats a literal '+' in a query the same way); SDKs send a real '+' as %2B.
std::vector<std::pair<std::string, std::string>> Request::QueryParams() const {
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = raw_query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      params.emplace_back(PercentDecode(part, true), std::string());
    } else {
      params.emplace_back(PercentDecode(part.substr(0, eq), true),
                          PercentDecode(part.substr(eq + 1), true));
    }
  }
  return params;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  for (auto& [key, value] : QueryParams()) {
    if (key == name) return std::move(value);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> BodyReader::ReadAll(size_t limit) {
  std::optional<uint64_t> length = content_length();
  if (length && *length > limit) {
    return absl::ResourceExhaustedError(
        fmt::format("request body of {} bytes exceeds the limit of {} bytes", *length, limit));
  }
  std::string out;
  // With a known length one read fills the string (the +1 detects the end); otherwise
  // grow geometrically, so a small or empty body does not pay for a large buffer.
  size_t step = length ? static_cast<size_t>(*length) + 1 : 4096;
  for (;;) {
    size_t old_size = out.size();
    // Read at most one byte past the limit so an over-long body is detected, not truncated.
    size_t want = std::min(step, limit + 1 - old_size);
    out.resize(old_size + want);
    absl::StatusOr<size_t> n = Read(out.data() + old_size, want);
    if (!n.ok()) return n.status();
    out.resize(old_size + *n);
    if (*n == 0) return out;
    if (out.size() > limit) {
      return absl::ResourceExhaustedError(
          fmt::format("request body exceeds the limit of {} bytes", limit));
    }
    if (!length || out.size() >= *length) step = std::min<size_t>(out.size(), 1 << 20);
  }
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (EqualsIgnoreCase(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Content-Type", std::move(content_type));
  return response;
}

Response Response::Json(int status, std::string body) {
  return Text(status, std::move(body), "application/json");
}

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

}  // namespace mercato::http
