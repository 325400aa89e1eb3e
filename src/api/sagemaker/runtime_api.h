// The SageMaker Runtime facade: POST /endpoints/{name}/invocations (InvokeEndpoint), REST-JSON
// protocol. Authenticated by SigV4 (service sagemaker, body hash) or a bearer token; only the
// endpoint's own account may invoke it. The body is limited to 6 MB (ValidationError).
// Content-Type, Accept, X-Amzn-SageMaker-Custom-Attributes and
// X-Amzn-SageMaker-Target-Variant are honoured; the answer carries the container's body and
// Content-Type, x-Amzn-Invoked-Production-Variant and custom attributes.
// Errors: header x-amzn-ErrorType plus JSON {"message"} (ModelError adds
// OriginalStatusCode, OriginalMessage and LogStreamArn).
// Thread-safe; borrows the authenticator and router.
#pragma once

#include <string>

#include "auth/authenticator.h"
#include "hosting/invocation_router.h"
#include "http/message.h"

namespace mercato::api::sagemaker {

class RuntimeApi {
 public:
  RuntimeApi(auth::Authenticator& authenticator, hosting::InvocationRouter& router,
             std::string region, size_t max_body_bytes = 6 << 20)
      : authenticator_(authenticator),
        router_(router),
        region_(std::move(region)),
        max_body_bytes_(max_body_bytes) {}
  http::Response Handle(http::Request& request, http::BodyReader& body);

 private:
  auth::Authenticator& authenticator_;
  hosting::InvocationRouter& router_;
  std::string region_;
  size_t max_body_bytes_;
};

}  // namespace mercato::api::sagemaker
