#include "auth/authenticator.h"

#include <utility>

#include "base/errors.h"
#include "base/status.h"

namespace mercato::auth {
namespace {

// The scheme name is case-insensitive (RFC 9110); one or more spaces follow it.
std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  if (authorization[kScheme.size()] != ' ') return std::nullopt;
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool IsHexSha256(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

Authenticator::Authenticator(AccountService& accounts, const Clock& clock, std::string region)
    : accounts_(accounts), clock_(clock), region_(std::move(region)) {}

absl::StatusOr<Authenticated> Authenticator::Authenticate(
    const http::Request& request, std::optional<std::string_view> body_sha256_hex) {
  if (auto token = BearerToken(request.Header("authorization"))) {
    absl::StatusOr<Principal> principal = accounts_.LookupToken(*token);
    if (absl::IsNotFound(principal.status())) {
      return AwsError(absl::StatusCode::kUnauthenticated, "InvalidClientTokenId",
                      "The security token included in the request is invalid.");
    }
    RETURN_IF_ERROR(principal.status());
    Authenticated out;
    out.principal = std::move(*principal);
    return out;
  }

  if (!http::HasSigV4(request)) {
    return AwsError(absl::StatusCode::kUnauthenticated, "MissingAuthenticationToken",
                    "Request is missing Authentication Token");
  }
  ASSIGN_OR_RETURN(http::SigV4Auth auth, http::ParseSigV4(request));
  if (!region_.empty() && auth.region != region_) {
    return AwsError(absl::StatusCode::kInvalidArgument, "AuthorizationHeaderMalformed",
                    "The authorization header is malformed; the region '" + auth.region +
                        "' is wrong; expecting '" + region_ + "'");
  }
  absl::StatusOr<AccountService::KeyWithSecret> key = accounts_.LookupAccessKey(auth.access_key_id);
  if (absl::IsNotFound(key.status())) {
    return AwsError(absl::StatusCode::kPermissionDenied, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.");
  }
  RETURN_IF_ERROR(key.status());

  // What the client put into its canonical request: the x-amz-content-sha256 value when
  // it sent one (a hash, UNSIGNED-PAYLOAD or a streaming marker), else the body's hash.
  std::string payload_hash = auth.content_sha256;
  if (payload_hash.empty() && body_sha256_hex) payload_hash = std::string(*body_sha256_hex);
  if (payload_hash.empty()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "InvalidRequest",
                    "Missing required header for this request: x-amz-content-sha256");
  }
  RETURN_IF_ERROR(
      http::VerifySigV4(request, auth, key->secret, payload_hash, clock_.Now(), &key_cache_));
  // The signature covers the claimed hash; the buffered body must match it.
  if (body_sha256_hex && IsHexSha256(auth.content_sha256) &&
      !EqualsIgnoreCase(auth.content_sha256, *body_sha256_hex)) {
    return AwsError(absl::StatusCode::kInvalidArgument, "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.");
  }

  Authenticated out;
  out.signing_key = key_cache_.Get(key->secret, auth.scope_date, auth.region, auth.service);
  out.principal = std::move(key->principal);
  out.sigv4 = std::move(auth);
  return out;
}

}  // namespace mercato::auth
