// The native REST API under /api/v1/: JSON in and out, authenticated by a bearer token
// (`Authorization: Bearer mct_...`) or SigV4 with service "mercato". Errors are
// {"error": {"code": ..., "message": ...}} with the matching HTTP status.
//
// Routes today: GET /api/v1/me; GET/POST /api/v1/accounts, GET /api/v1/accounts/{id}
// (operator); GET/POST /api/v1/keys, DELETE /api/v1/keys/{id}; POST /api/v1/tokens.
// Later capabilities register more routes through AddRoute() (small JSON bodies, buffered
// up to 8 MiB) or AddStreamingRoute() (the body is left unread for the route to stream,
// and the route builds the whole http::Response, e.g. a streamed download). A streaming
// request is authenticated before any body byte is read: a bearer token, or SigV4 with
// x-amz-content-sha256 UNSIGNED-PAYLOAD or the hex hash (then verified as the route
// reads; a mismatch fails the last Read()). aws-chunked bodies are refused.
// Thread-safe once constructed; borrows every service it is given.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/common/router.h"
#include "auth/accounts.h"
#include "auth/authenticator.h"
#include "base/json.h"
#include "http/message.h"

namespace mercato::api::v1 {

// What a route handler sees: the authenticated caller, the path parameters, the query,
// and the JSON body (null when there is none).
struct Call {
  const auth::Principal& principal;
  const PathParams& params;
  const http::Request& request;
  const Json& body;
};

// A route returns a JSON value (status 200 unless `status` is set) or an error status.
struct Reply {
  int status = 200;
  Json body;
};
using RouteFn = std::function<absl::StatusOr<Reply>(const Call&)>;

// What a streaming route sees: the body still unread.
struct StreamingCall {
  const auth::Principal& principal;
  const PathParams& params;
  http::Request& request;
  http::BodyReader& body;
};
using StreamingRouteFn = std::function<absl::StatusOr<http::Response>(const StreamingCall&)>;

class V1Api {
 public:
  V1Api(auth::AccountService& accounts, auth::Authenticator& authenticator);
  // Registers a route; call before serving. `pattern` like "/api/v1/keys/{id}".
  void AddRoute(std::string method, std::string_view pattern, RouteFn fn);
  // Registers a streaming route. `method` "*" matches any method. A last segment
  // "{name...}" captures the rest of the path (zero or more segments, '/'-joined).
  void AddStreamingRoute(std::string method, std::string_view pattern, StreamingRouteFn fn);
  http::Response Handle(http::Request& request, http::BodyReader& body);

 private:
  struct StreamingRoute {
    std::string method;
    std::vector<std::string> segments;  // without the trailing "{name...}"
    std::string rest_name;              // "" when the pattern has no "{name...}"
    StreamingRouteFn fn;
  };
  void AddAccountRoutes();
  http::Response HandleStreaming(const StreamingRoute& route, PathParams params,
                                 http::Request& request, http::BodyReader& body);

  auth::AccountService& accounts_;
  auth::Authenticator& authenticator_;
  Router<RouteFn> router_;
  std::vector<StreamingRoute> streaming_;
};

// JSON shapes shared by routes and the CLI.
Json AccountJson(const auth::Account& account);
Json AccessKeyJson(const auth::AccessKey& key);

}  // namespace mercato::api::v1
