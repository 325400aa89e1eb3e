// Authenticator: turns a request's credentials (SigV4 header or presigned query, or a
// `Authorization: Bearer <token>` header) into a Principal.
//
// SigV4 needs the payload hash. A caller that has buffered the body passes its hex
// SHA-256; a caller that streams passes nullopt, the header value x-amz-content-sha256
// is used, and the caller verifies the streamed bytes against it (or decodes aws-chunked
// with the signing key returned here). Errors carry AWS codes (base/errors.h):
// InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed, AccessDenied, and
// MissingAuthenticationToken when there are no credentials at all.
// Thread-safe; borrows the AccountService and Clock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auth/accounts.h"
#include "base/clock.h"
#include "http/message.h"
#include "http/sigv4.h"

namespace mercato::auth {

struct Authenticated {
  Principal principal;
  std::optional<http::SigV4Auth> sigv4;  // set when SigV4 was used
  std::string signing_key;               // derived key, for aws-chunked bodies
};

class Authenticator {
 public:
  // `region`, when non-empty, is the only region a SigV4 credential scope may name
  // (AuthorizationHeaderMalformed otherwise, as S3 answers a request signed for another
  // region).
  Authenticator(AccountService& accounts, const Clock& clock, std::string region = "");
  absl::StatusOr<Authenticated> Authenticate(const http::Request& request,
                                             std::optional<std::string_view> body_sha256_hex);

 private:
  AccountService& accounts_;
  const Clock& clock_;
  std::string region_;
  http::SigningKeyCache key_cache_;
};

}  // namespace mercato::auth
