// The SageMaker API facade (JSON 1.1 protocol): POST / with `X-Amz-Target:
// SageMaker.<Action>` and `Content-Type: application/x-amz-json-1.1`, SigV4 (service
// sagemaker) verified against the hash of the buffered body. Actions are registered by name
// (AddAction), so each domain (hosting here, jobs later) adds its own from its own file.
//
// Errors are JSON {"__type": code, "message": ...} with the header x-amzn-ErrorType, as
// botocore's JSON parser reads them: the status's AWS code (base/errors.h) if it carries
// one, else ValidationException (InvalidArgument), ResourceNotFound (NotFound), ResourceInUse
// (AlreadyExists, FailedPrecondition), ResourceLimitExceeded (ResourceExhausted), all HTTP
// 400; InternalFailure 500 otherwise. Authentication failures: UnrecognizedClientException,
// InvalidSignatureException, MissingAuthenticationTokenException (403).
// Thread-safe once actions are registered; borrows the authenticator.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "auth/authenticator.h"
#include "base/json.h"
#include "http/message.h"

namespace mercato::hosting {
class HostingService;
}

namespace mercato::api::sagemaker {

using ActionFn = std::function<absl::StatusOr<Json>(const auth::Principal&, const Json& input)>;

class SageMakerApi {
 public:
  explicit SageMakerApi(auth::Authenticator& authenticator) : authenticator_(authenticator) {}
  // Registers `SageMaker.<name>`; call before serving.
  void AddAction(std::string name, ActionFn fn);
  http::Response Handle(http::Request& request, http::BodyReader& body);

 private:
  auth::Authenticator& authenticator_;
  std::map<std::string, ActionFn, std::less<>> actions_;
};

// Serves one JSON 1.1 request — the protocol part every X-Amz-Target facade shares: buffers
// the body (at most `max_bytes`; SerializationException otherwise), verifies SigV4 against its
// hash, finds the action for the X-Amz-Target with `find` (null: UnknownOperationException),
// parses the input object and runs the action. `action_error` renders an action's failure;
// every answer carries x-amzn-RequestId.
http::Response ServeJsonRequest(
    http::Request& request, http::BodyReader& body, auth::Authenticator& authenticator,
    size_t max_bytes, const std::function<const ActionFn*(std::string_view target)>& find,
    const std::function<http::Response(const absl::Status&, std::string_view target)>&
        action_error);

// The JSON 1.1 error response for a status (exposed for tests and other facades).
http::Response JsonError(const absl::Status& status);
// Maps an authentication failure to the JSON protocols' codes.
absl::Status MapAuthError(const absl::Status& status);

// Registers the hosting actions: models, endpoint configs and endpoints.
void AddHostingActions(SageMakerApi& api, hosting::HostingService& service);

}  // namespace mercato::api::sagemaker
