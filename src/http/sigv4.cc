#include "http/sigv4.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"
#include "openssl/evp.h"

namespace mercato::http {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr absl::Duration kMaxSkew = absl::Minutes(15);
constexpr int64_t kMaxPresignedExpires = 604800;  // one week, as S3 allows
constexpr size_t kMaxKeyCacheEntries = 10000;
constexpr size_t kMaxChunkSize = 16 << 20;
constexpr size_t kMaxChunkLine = 4096;
constexpr size_t kMaxTrailerBytes = 16 << 10;

// The exact S3 wording, since SDKs and tests match on it.
constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method.";

// ---------------------------------------------------------------------------------------------
// Small string helpers (absl's take absl::string_view, which is not std::string_view here).

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// SigV4's Trimall: strip both ends and collapse internal whitespace runs to one space (what
// botocore does with ' '.join(value.split())).
std::string TrimAll(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(
        s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Raw (still encoded) query pairs in order; a piece without '=' has an empty value.
std::vector<std::pair<std::string_view, std::string_view>> RawQueryPairs(std::string_view q) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (q.empty()) return out;
  for (std::string_view piece : Split(q, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(piece, std::string_view());
    } else {
      out.emplace_back(piece.substr(0, eq), piece.substr(eq + 1));
    }
  }
  return out;
}

const std::string* FindHeader(const Request& request, std::string_view name) {
  for (const auto& [k, v] : request.headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

// RFC 3986 section 5.2.4 plus the removal of empty segments, as botocore's
// remove_dot_segments does for every service but S3.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  for (std::string_view seg : Split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) result.push_back('/');
    result.append(out[i]);
  }
  if (path.back() == '/' && !out.empty()) result.push_back('/');
  return result;
}

bool IsLowerHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

absl::Status HeaderMalformed(std::string_view why) {
  return AwsError(absl::StatusCode::kInvalidArgument, "AuthorizationHeaderMalformed",
                  std::string("The authorization header is malformed; ") + std::string(why));
}

absl::Status QueryMalformed(std::string_view why) {
  return AwsError(absl::StatusCode::kInvalidArgument, "AuthorizationQueryParametersError", why);
}

absl::Status SignatureMismatch() {
  return AwsError(absl::StatusCode::kPermissionDenied, "SignatureDoesNotMatch", kSignatureMismatch);
}

absl::Status IncompleteBody() {
  return AwsError(absl::StatusCode::kInvalidArgument, "IncompleteBody",
                  "You did not provide the number of bytes specified by the Content-Length HTTP "
                  "header.");
}

absl::Status BadChunk(std::string_view why) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidRequest",
                  std::string("Malformed aws-chunked body: ") + std::string(why));
}

struct Credential {
  std::string access_key_id, date, region, service;
};

// "<AKID>/<yyyymmdd>/<region>/<service>/aws4_request". The access key id cannot contain '/',
// so splitting on it is exact.
std::optional<Credential> ParseCredential(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, '/');
  if (parts.size() != 5 || parts[4] != "aws4_request") return std::nullopt;
  if (parts[0].empty() || parts[1].size() != 8 || !IsDigits(parts[1]) || parts[2].empty() ||
      parts[3].empty()) {
    return std::nullopt;
  }
  return Credential{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                    std::string(parts[3])};
}

std::optional<std::vector<std::string>> ParseSignedHeaders(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view name : Split(text, ';')) {
    if (name.empty()) return std::nullopt;
    out.push_back(Lower(name));
  }
  return out;
}

// The content-sha256 values S3 accepts: a hex digest or one of the literal markers.
bool ValidContentSha256(std::string_view v) {
  return IsLowerHex(Lower(v), 64) || v == kUnsignedPayload || v == kStreamingSigned ||
         v == kStreamingSignedTrailer || v == kStreamingUnsignedTrailer ||
         v == "STREAMING-UNSIGNED-PAYLOAD" || v == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" ||
         v == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER";
}

absl::Status AccessDenied(std::string_view message) {
  return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied", message);
}

absl::Status InvalidContentSha256() {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidArgument",
                  "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                  "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.");
}

// x-amz-date, or else the Date header converted to the basic format (botocore signs with
// Date when the caller set one).
absl::StatusOr<std::string> RequestAmzDate(const Request& request) {
  if (const std::string* d = FindHeader(request, "x-amz-date")) {
    if (ParseAmzDate(TrimView(*d)).ok()) return std::string(TrimView(*d));
  } else if (const std::string* d = FindHeader(request, "date")) {
    if (auto t = ParseHttpDate(TrimView(*d)); t.ok()) return FormatAmzDate(*t);
  }
  return AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
}

absl::StatusOr<SigV4Auth> ParseHeaderForm(const Request& request, std::string_view header) {
  std::string_view rest = TrimView(header);
  if (rest.substr(0, kAlgorithm.size()) != kAlgorithm || rest.size() == kAlgorithm.size() ||
      !IsSpace(rest[kAlgorithm.size()])) {
    return HeaderMalformed("the authorization type must be AWS4-HMAC-SHA256");
  }
  rest.remove_prefix(kAlgorithm.size());
  std::optional<std::string_view> credential, signed_headers, signature;
  for (std::string_view part : Split(rest, ',')) {
    part = TrimView(part);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return HeaderMalformed(
          "expected Credential=, SignedHeaders= and Signature= separated by ','");
    }
    std::string_view key = TrimView(part.substr(0, eq));
    std::string_view value = TrimView(part.substr(eq + 1));
    if (key == "Credential") {
      credential = value;
    } else if (key == "SignedHeaders") {
      signed_headers = value;
    } else if (key == "Signature") {
      signature = value;
    } else {
      return HeaderMalformed("unknown field " + std::string(key));
    }
  }
  if (!credential || !signed_headers || !signature) {
    return HeaderMalformed("it must contain Credential, SignedHeaders and Signature");
  }
  std::optional<Credential> cred = ParseCredential(*credential);
  if (!cred) {
    return HeaderMalformed(
        "the Credential is mal-formed; expecting "
        "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
  }
  std::optional<std::vector<std::string>> headers = ParseSignedHeaders(*signed_headers);
  if (!headers) return HeaderMalformed("SignedHeaders is empty or has an empty name");
  if (signature->size() != 64 || !HexDecode(*signature).ok()) {
    return HeaderMalformed("the Signature must be 64 hexadecimal characters");
  }
  ASSIGN_OR_RETURN(std::string amz_date, RequestAmzDate(request));
  if (amz_date.substr(0, 8) != cred->date) {
    return HeaderMalformed("Invalid credential date. Date is not the same as X-Amz-Date.");
  }
  SigV4Auth auth;
  auth.access_key_id = std::move(cred->access_key_id);
  auth.scope_date = std::move(cred->date);
  auth.region = std::move(cred->region);
  auth.service = std::move(cred->service);
  auth.signed_headers = std::move(*headers);
  auth.signature = std::string(*signature);
  auth.amz_date = std::move(amz_date);
  return auth;
}

absl::StatusOr<SigV4Auth> ParseQueryForm(const Request& request) {
  std::optional<std::string> algorithm = request.QueryParam("X-Amz-Algorithm");
  std::optional<std::string> credential = request.QueryParam("X-Amz-Credential");
  std::optional<std::string> date = request.QueryParam("X-Amz-Date");
  std::optional<std::string> expires = request.QueryParam("X-Amz-Expires");
  std::optional<std::string> signed_headers = request.QueryParam("X-Amz-SignedHeaders");
  std::optional<std::string> signature = request.QueryParam("X-Amz-Signature");
  if (!algorithm || !credential || !date || !expires || !signed_headers || !signature) {
    return QueryMalformed(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  }
  if (*algorithm != kAlgorithm) {
    return QueryMalformed("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  }
  std::optional<Credential> cred = ParseCredential(*credential);
  if (!cred) {
    return QueryMalformed(
        "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
        "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
  }
  if (!ParseAmzDate(*date).ok()) {
    return QueryMalformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (!IsDigits(*expires) || expires->size() > 12) {
    return QueryMalformed("X-Amz-Expires should be a number");
  }
  int64_t expires_seconds = std::stoll(*expires);
  if (expires_seconds < 1) return QueryMalformed("X-Amz-Expires must be non-negative");
  if (expires_seconds > kMaxPresignedExpires) {
    return QueryMalformed("X-Amz-Expires must be less than a week (in seconds) that is 604800");
  }
  if (date->substr(0, 8) != cred->date) {
    return QueryMalformed(
        "Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the "
        "same as X-Amz-Date.");
  }
  std::optional<std::vector<std::string>> headers = ParseSignedHeaders(*signed_headers);
  if (!headers) return QueryMalformed("X-Amz-SignedHeaders is empty or has an empty name");
  if (signature->size() != 64 || !HexDecode(*signature).ok()) {
    return QueryMalformed("X-Amz-Signature must be 64 hexadecimal characters");
  }
  SigV4Auth auth;
  auth.access_key_id = std::move(cred->access_key_id);
  auth.scope_date = std::move(cred->date);
  auth.region = std::move(cred->region);
  auth.service = std::move(cred->service);
  auth.signed_headers = std::move(*headers);
  auth.signature = std::move(*signature);
  auth.amz_date = std::move(*date);
  auth.presigned = true;
  auth.expires_seconds = expires_seconds;
  return auth;
}

bool HasQueryAuth(const Request& request) {
  return request.QueryParam("X-Amz-Algorithm").has_value() ||
         request.QueryParam("X-Amz-Credential").has_value() ||
         request.QueryParam("X-Amz-Signature").has_value();
}

std::string Scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string s;
  s.reserve(date.size() + region.size() + service.size() + 16);
  s.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return s;
}

// Headers botocore never signs (SIGNED_HEADERS_BLACKLIST in botocore/auth.py): hop-by-hop
// headers and ones proxies rewrite.
bool NeverSigned(std::string_view lower_name) {
  static constexpr std::string_view kNames[] = {"connection",
                                                "expect",
                                                "keep-alive",
                                                "proxy-authenticate",
                                                "proxy-authorization",
                                                "te",
                                                "trailer",
                                                "transfer-encoding",
                                                "upgrade",
                                                "user-agent",
                                                "x-amzn-trace-id",
                                                "authorization"};
  return std::find(std::begin(kNames), std::end(kNames), lower_name) != std::end(kNames);
}

}  // namespace

bool HasSigV4(const Request& request) {
  if (const std::string* a = FindHeader(request, "authorization")) {
    if (TrimView(*a).substr(0, kAlgorithm.size()) == kAlgorithm) return true;
  }
  return HasQueryAuth(request);
}

absl::StatusOr<SigV4Auth> ParseSigV4(const Request& request) {
  const std::string* header = FindHeader(request, "authorization");
  bool query = HasQueryAuth(request);
  if (header && query) {
    return AwsError(absl::StatusCode::kInvalidArgument, "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                    "Signature query string parameter or the Authorization header should be "
                    "specified");
  }
  absl::StatusOr<SigV4Auth> auth;
  if (header) {
    auth = ParseHeaderForm(request, *header);
  } else if (query) {
    auth = ParseQueryForm(request);
  } else {
    return AccessDenied("Request is missing Authentication Token");
  }
  if (!auth.ok()) return auth.status();
  if (const std::string* sha = FindHeader(request, "x-amz-content-sha256")) {
    auth->content_sha256 = std::string(TrimView(*sha));
    if (!ValidContentSha256(auth->content_sha256)) return InvalidContentSha256();
  } else if (auth->presigned) {
    auth->content_sha256 = std::string(kUnsignedPayload);
  }
  if (const std::string* trailer = FindHeader(request, "x-amz-trailer")) {
    auth->amz_trailer = Lower(TrimView(*trailer));
  }
  return auth;
}

struct SigningKeyCache::Impl {
  std::mutex mu;
  std::map<std::string, std::string> keys;  // guarded by mu
};

SigningKeyCache::SigningKeyCache() : impl_(std::make_unique<Impl>()) {}
SigningKeyCache::~SigningKeyCache() = default;

std::string SigningKeyCache::Get(std::string_view secret, std::string_view date,
                                 std::string_view region, std::string_view service) {
  // The secret is keyed by its hash so the map never holds plain secrets twice.
  std::string id = Sha256(secret);
  id.append(1, '\0').append(date).append(1, '\0').append(region).append(1, '\0').append(service);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->keys.find(id);
    if (it != impl_->keys.end()) return it->second;
  }
  std::string key = DeriveSigningKey(secret, date, region, service);
  std::lock_guard<std::mutex> lock(impl_->mu);
  // Keys change daily; dropping everything at the bound is simpler than LRU and rare.
  if (impl_->keys.size() >= kMaxKeyCacheEntries) impl_->keys.clear();
  impl_->keys.emplace(std::move(id), key);
  return key;
}

std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash, bool presigned, bool s3_path_rules) {
  std::string out = request.method;
  out.push_back('\n');
  // S3 signs the object key as it is (re-encoded canonically); every other service signs the
  // normalized path as sent, encoded once more (so "%20" on the wire becomes "%2520").
  std::string uri = s3_path_rules ? UriEncode(PercentDecode(request.raw_path), true)
                                  : UriEncode(NormalizePath(request.raw_path), true);
  out.append(uri.empty() ? "/" : uri);
  out.push_back('\n');

  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : RawQueryPairs(request.raw_query)) {
    // '+' means a space in a query, as Request::QueryParams reads it; SDKs send %2B for '+'.
    std::string name = PercentDecode(k, true);
    if (presigned && name == "X-Amz-Signature") continue;
    params.emplace_back(UriEncode(name, false), UriEncode(PercentDecode(v, true), false));
  }
  std::sort(params.begin(), params.end());
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out.push_back('&');
    out.append(params[i].first).append("=").append(params[i].second);
  }
  out.push_back('\n');

  for (const std::string& name : signed_headers) {
    out.append(name).push_back(':');
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (!EqualsIgnoreCase(k, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(TrimAll(v));
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i) out.push_back(';');
    out.append(signed_headers[i]);
  }
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(Sha256Hex(canonical_request));
  return out;
}

std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string k = HmacSha256(std::string("AWS4").append(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

absl::Status VerifySigV4(const Request& request, const SigV4Auth& auth, std::string_view secret,
                         std::string_view payload_hash, absl::Time now, SigningKeyCache* cache) {
  absl::StatusOr<absl::Time> t = ParseAmzDate(auth.amz_date);
  if (!t.ok()) return AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
  if (auth.presigned) {
    if (*t - kMaxSkew > now) return AccessDenied("Request is not valid yet");
    if (now > *t + absl::Seconds(auth.expires_seconds)) return AccessDenied("Request has expired");
  } else if (absl::AbsDuration(now - *t) > kMaxSkew) {
    return AwsError(absl::StatusCode::kPermissionDenied, "RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.");
  }
  std::string creq = CanonicalRequest(request, auth.signed_headers, payload_hash, auth.presigned,
                                      auth.service == "s3");
  std::string sts =
      StringToSign(auth.amz_date, Scope(auth.scope_date, auth.region, auth.service), creq);
  std::string key = cache ? cache->Get(secret, auth.scope_date, auth.region, auth.service)
                          : DeriveSigningKey(secret, auth.scope_date, auth.region, auth.service);
  std::string expected = HexEncode(HmacSha256(key, sts));
  if (!ConstantTimeEquals(expected, auth.signature)) return SignatureMismatch();
  return absl::OkStatus();
}

void SignRequest(Request& request, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, std::string_view payload_hash,
                 absl::Time now) {
  bool s3 = service == "s3";
  std::erase_if(request.headers, [&](const auto& h) {
    return EqualsIgnoreCase(h.first, "authorization") || EqualsIgnoreCase(h.first, "x-amz-date") ||
           (s3 && EqualsIgnoreCase(h.first, "x-amz-content-sha256"));
  });
  std::string amz_date = FormatAmzDate(now);
  request.headers.emplace_back("x-amz-date", amz_date);
  if (s3) request.headers.emplace_back("x-amz-content-sha256", std::string(payload_hash));

  std::vector<std::string> names;
  for (const auto& [k, v] : request.headers) {
    std::string name = Lower(TrimView(k));
    if (!NeverSigned(name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::string date = amz_date.substr(0, 8);
  std::string scope = Scope(date, region, service);
  std::string sts =
      StringToSign(amz_date, scope, CanonicalRequest(request, names, payload_hash, false, s3));
  std::string signature =
      HexEncode(HmacSha256(DeriveSigningKey(secret, date, region, service), sts));
  std::string joined;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) joined.push_back(';');
    joined.append(names[i]);
  }
  std::string authorization(kAlgorithm);
  authorization.append(" Credential=").append(access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=").append(joined);
  authorization.append(", Signature=").append(signature);
  request.headers.emplace_back("authorization", std::move(authorization));
}

// ---------------------------------------------------------------------------------------------
// aws-chunked decoding.

namespace {

struct EvpFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

struct AwsChunkedReader::Impl {
  Impl(BodyReader& in, const SigV4Auth& a, std::string key, std::optional<uint64_t> length)
      : inner(in), auth(a), signing_key(std::move(key)), decoded_length(length) {
    std::string_view mode = auth.content_sha256;
    signed_chunks = mode == kStreamingSigned || mode == kStreamingSignedTrailer;
    signed_trailer = mode == kStreamingSignedTrailer;
    bool trailer_mode = mode == kStreamingSignedTrailer || mode == kStreamingUnsignedTrailer ||
                        !auth.amz_trailer.empty();
    scope = Scope(auth.scope_date, auth.region, auth.service);
    previous_signature = auth.signature;
    if (trailer_mode) {
      // Hash only what the client announced in x-amz-trailer; without the announcement
      // (a caller that built SigV4Auth by hand) compute every supported checksum.
      auto wants = [&](std::string_view name) {
        if (auth.amz_trailer.empty()) return true;
        for (std::string_view t : Split(auth.amz_trailer, ',')) {
          if (TrimView(t) == name) return true;
        }
        return false;
      };
      want_crc32 = wants("x-amz-checksum-crc32");
      want_crc32c = wants("x-amz-checksum-crc32c");
      if (wants("x-amz-checksum-sha256")) sha256 = Hasher::Create("sha256");
      if (wants("x-amz-checksum-sha1")) {
        sha1.reset(EVP_MD_CTX_new());
        EVP_DigestInit_ex(sha1.get(), EVP_sha1(), nullptr);
      }
    }
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n);
  absl::Status Fill();
  absl::StatusOr<std::optional<std::string>> ReadLine(size_t max);
  absl::Status ReadData(size_t n);
  absl::Status NextChunk();
  absl::Status Finish();
  absl::Status CheckChecksums();

  BodyReader& inner;
  SigV4Auth auth;
  std::string signing_key;
  std::optional<uint64_t> decoded_length;
  bool signed_chunks = false;
  bool signed_trailer = false;
  std::string scope;
  std::string previous_signature;

  std::string in;  // bytes read from `inner` but not consumed yet, from in_pos
  size_t in_pos = 0;
  bool in_eof = false;

  std::string chunk;  // the current, verified chunk, served from chunk_pos
  size_t chunk_pos = 0;
  uint64_t total = 0;
  bool done = false;
  absl::Status error;  // sticky: once failed, every Read() fails the same way
  Headers trailers;

  bool want_crc32 = false;
  bool want_crc32c = false;
  uint32_t crc32 = 0;
  uint32_t crc32c = 0;
  std::unique_ptr<Hasher> sha256;
  std::unique_ptr<EVP_MD_CTX, EvpFree> sha1;
};

absl::Status AwsChunkedReader::Impl::Fill() {
  if (in_pos > 0) {
    in.erase(0, in_pos);
    in_pos = 0;
  }
  constexpr size_t kReadSize = 64 << 10;
  size_t old = in.size();
  in.resize(old + kReadSize);
  absl::StatusOr<size_t> n = inner.Read(in.data() + old, kReadSize);
  in.resize(old + (n.ok() ? *n : 0));
  if (!n.ok()) return n.status();
  if (*n == 0) in_eof = true;
  return absl::OkStatus();
}

// One line without its CRLF (a bare LF is tolerated); nullopt at a clean end of input.
absl::StatusOr<std::optional<std::string>> AwsChunkedReader::Impl::ReadLine(size_t max) {
  while (true) {
    size_t nl = in.find('\n', in_pos);
    if (nl != std::string::npos) {
      if (nl - in_pos > max) return BadChunk("line too long");
      std::string line = in.substr(in_pos, nl - in_pos);
      in_pos = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return std::optional<std::string>(std::move(line));
    }
    if (in.size() - in_pos > max) return BadChunk("line too long");
    if (in_eof) {
      if (in_pos == in.size()) return std::optional<std::string>();
      std::string line = in.substr(in_pos);
      in_pos = in.size();
      return std::optional<std::string>(std::move(line));
    }
    RETURN_IF_ERROR(Fill());
  }
}

// Reads exactly n data bytes into `chunk`, straight from `inner` once the lookahead is used.
absl::Status AwsChunkedReader::Impl::ReadData(size_t n) {
  chunk.resize(n);
  chunk_pos = 0;
  size_t have = std::min(n, in.size() - in_pos);
  std::memcpy(chunk.data(), in.data() + in_pos, have);
  in_pos += have;
  while (have < n) {
    if (in_eof) return IncompleteBody();
    absl::StatusOr<size_t> got = inner.Read(chunk.data() + have, n - have);
    if (!got.ok()) return got.status();
    if (*got == 0) {
      in_eof = true;
      return IncompleteBody();
    }
    have += *got;
  }
  return absl::OkStatus();
}

absl::Status AwsChunkedReader::Impl::NextChunk() {
  ASSIGN_OR_RETURN(std::optional<std::string> line, ReadLine(kMaxChunkLine));
  if (!line) return IncompleteBody();
  std::string_view header = *line;
  size_t semi = header.find(';');
  std::string_view size_text = TrimView(header.substr(0, semi));
  std::optional<std::string_view> chunk_signature;
  if (semi != std::string_view::npos) {
    for (std::string_view ext : Split(header.substr(semi + 1), ';')) {
      size_t eq = ext.find('=');
      if (eq != std::string_view::npos && TrimView(ext.substr(0, eq)) == "chunk-signature") {
        chunk_signature = TrimView(ext.substr(eq + 1));
      }
    }
  }
  if (size_text.empty() || size_text.size() > 8) return BadChunk("bad chunk size");
  uint64_t size = 0;
  for (char c : size_text) {
    int v = HexValue(c);
    if (v < 0) return BadChunk("bad chunk size");
    size = size * 16 + v;
  }
  if (size > kMaxChunkSize) {
    return AwsError(absl::StatusCode::kInvalidArgument, "InvalidRequest",
                    "aws-chunked chunks may be at most 16 MiB");
  }
  if (decoded_length && total + size > *decoded_length) return IncompleteBody();
  RETURN_IF_ERROR(ReadData(size));
  if (size > 0) {
    ASSIGN_OR_RETURN(std::optional<std::string> end, ReadLine(2));
    if (!end) return IncompleteBody();
    if (!end->empty()) return BadChunk("chunk data not followed by CRLF");
  }
  if (signed_chunks) {
    if (!chunk_signature) return SignatureMismatch();
    std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n";
    sts.append(auth.amz_date).append("\n").append(scope).append("\n");
    sts.append(previous_signature).append("\n").append(kEmptySha256).append("\n");
    sts.append(Sha256Hex(chunk));
    std::string expected = HexEncode(HmacSha256(signing_key, sts));
    if (!ConstantTimeEquals(expected, *chunk_signature)) return SignatureMismatch();
    previous_signature = std::move(expected);
  }
  total += size;
  if (want_crc32) crc32 = Crc32Update(crc32, chunk);
  if (want_crc32c) crc32c = Crc32cUpdate(crc32c, chunk);
  if (sha256) sha256->Update(chunk);
  if (sha1) EVP_DigestUpdate(sha1.get(), chunk.data(), chunk.size());
  if (size == 0) {
    RETURN_IF_ERROR(Finish());
    done = true;
  }
  return absl::OkStatus();
}

// After the zero-length chunk: trailer lines `name:value` up to the end of the body (blank
// lines are skipped, since the AWS examples put one between the last chunk and the trailers).
absl::Status AwsChunkedReader::Impl::Finish() {
  std::string canonical;  // what x-amz-trailer-signature signs: "name:value\n" per trailer
  std::optional<std::string> trailer_signature;
  size_t consumed = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<std::string> line, ReadLine(kMaxTrailerBytes));
    if (!line) break;
    consumed += line->size() + 2;
    if (consumed > kMaxTrailerBytes) return BadChunk("trailers too long");
    if (TrimView(*line).empty()) continue;
    size_t colon = line->find(':');
    if (colon == std::string::npos) return BadChunk("malformed trailer");
    std::string name = Lower(TrimView(std::string_view(*line).substr(0, colon)));
    std::string value(TrimView(std::string_view(*line).substr(colon + 1)));
    if (name == "x-amz-trailer-signature") {
      trailer_signature = std::move(value);
      continue;
    }
    canonical.append(name).append(":").append(value).append("\n");
    trailers.emplace_back(std::move(name), std::move(value));
  }
  if (signed_trailer) {
    if (!trailer_signature) return SignatureMismatch();
    std::string sts = "AWS4-HMAC-SHA256-TRAILER\n";
    sts.append(auth.amz_date).append("\n").append(scope).append("\n");
    sts.append(previous_signature).append("\n").append(Sha256Hex(canonical));
    if (!ConstantTimeEquals(HexEncode(HmacSha256(signing_key, sts)), *trailer_signature)) {
      return SignatureMismatch();
    }
  }
  if (decoded_length && total != *decoded_length) return IncompleteBody();
  return CheckChecksums();
}

absl::Status AwsChunkedReader::Impl::CheckChecksums() {
  auto find = [&](std::string_view name) -> const std::string* {
    for (const auto& [k, v] : trailers) {
      if (k == name) return &v;
    }
    return nullptr;
  };
  // Every checksum announced in x-amz-trailer must arrive, or nothing vouches for the data.
  for (std::string_view t : Split(auth.amz_trailer, ',')) {
    t = TrimView(t);
    if (!t.empty() && !find(t)) {
      return AwsError(absl::StatusCode::kInvalidArgument, "MalformedTrailerError",
                      "The request contained trailing data that was not well-formed or did not "
                      "conform to our published schema.");
    }
  }
  struct Check {
    std::string_view name, algorithm;
    bool computed;
  };
  const Check checks[] = {{"x-amz-checksum-crc32", "CRC32", want_crc32},
                          {"x-amz-checksum-crc32c", "CRC32C", want_crc32c},
                          {"x-amz-checksum-sha256", "SHA256", sha256 != nullptr},
                          {"x-amz-checksum-sha1", "SHA1", sha1 != nullptr}};
  for (const Check& c : checks) {
    const std::string* sent = find(c.name);
    if (!sent) continue;
    if (!c.computed) {
      return AwsError(absl::StatusCode::kInvalidArgument, "InvalidRequest",
                      "The trailer " + std::string(c.name) + " was not declared in x-amz-trailer");
    }
    std::string actual;
    if (c.algorithm == "CRC32") {
      actual = CrcToBase64(crc32);
    } else if (c.algorithm == "CRC32C") {
      actual = CrcToBase64(crc32c);
    } else if (c.algorithm == "SHA256") {
      actual = Base64Encode(sha256->Final());
      sha256.reset();
    } else {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(sha1.get(), md, &len);
      sha1.reset();
      actual = Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
    }
    if (actual != *sent) {
      return AwsError(absl::StatusCode::kInvalidArgument, "BadDigest",
                      std::string("The ") + std::string(c.algorithm) +
                          " you specified did not match the calculated checksum.");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> AwsChunkedReader::Impl::Read(char* buf, size_t n) {
  if (!error.ok()) return error;
  while (chunk_pos == chunk.size()) {
    if (done) return 0;
    absl::Status s = NextChunk();
    if (!s.ok()) {
      error = s;
      chunk.clear();
      chunk_pos = 0;
      return s;
    }
  }
  size_t take = std::min(n, chunk.size() - chunk_pos);
  std::memcpy(buf, chunk.data() + chunk_pos, take);
  chunk_pos += take;
  return take;
}

AwsChunkedReader::AwsChunkedReader(BodyReader& inner, const SigV4Auth& auth,
                                   std::string signing_key, std::optional<uint64_t> decoded_length)
    : impl_(std::make_unique<Impl>(inner, auth, std::move(signing_key), decoded_length)) {}
AwsChunkedReader::~AwsChunkedReader() = default;

absl::StatusOr<size_t> AwsChunkedReader::Read(char* buf, size_t n) { return impl_->Read(buf, n); }
std::optional<uint64_t> AwsChunkedReader::content_length() const { return impl_->decoded_length; }
const Headers& AwsChunkedReader::trailers() const { return impl_->trailers; }

}  // namespace mercato::http
