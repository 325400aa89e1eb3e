#include "api/v1/v1_api.h"

#include <cctype>
#include <optional>

#include "api/common/errors.h"
#include "base/crypto.h"
#include "base/errors.h"
#include "base/status.h"
#include "base/time_format.h"

namespace mercato::api::v1 {
namespace {

constexpr size_t kMaxJsonBody = 8 * 1024 * 1024;

absl::Status RequireOperator(const auth::Principal& p) {
  if (!p.is_operator) {
    return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                    "this operation is reserved for the operator account");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequiredString(const Json& body, const char* field) {
  if (!body.is_object() || !body.contains(field) || !body[field].is_string() ||
      body[field].get<std::string>().empty()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    std::string("missing required string field '") + field + "'");
  }
  return body[field].get<std::string>();
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Matches `segs` against a streaming route's pattern; fills `params` on success.
bool MatchStreaming(const std::vector<std::string>& pattern, const std::string& rest_name,
                    const std::vector<std::string>& segs, PathParams* params) {
  if (rest_name.empty() ? segs.size() != pattern.size() : segs.size() < pattern.size()) {
    return false;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      (*params)[p.substr(1, p.size() - 2)] = segs[i];
    } else if (p != segs[i]) {
      return false;
    }
  }
  if (!rest_name.empty()) {
    std::string rest;
    for (size_t i = pattern.size(); i < segs.size(); ++i) {
      if (!rest.empty()) rest += '/';
      rest += segs[i];
    }
    (*params)[rest_name] = rest;
  }
  return true;
}

// Passes a SigV4-signed body through while hashing it; at the end of the body the hash
// must equal the one the signature covers.
class VerifyingBodyReader final : public http::BodyReader {
 public:
  VerifyingBodyReader(http::BodyReader& inner, std::string expected_hex)
      : inner_(inner), expected_(std::move(expected_hex)), hasher_(Hasher::Create("sha256")) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    ASSIGN_OR_RETURN(size_t got, inner_.Read(buf, n));
    if (got > 0) {
      hasher_->Update(std::string_view(buf, got));
    } else if (!done_) {
      done_ = true;
      if (HexEncode(hasher_->Final()) != ToLower(expected_)) {
        return AwsError(absl::StatusCode::kInvalidArgument, "XAmzContentSHA256Mismatch",
                        "The provided 'x-amz-content-sha256' header does not match what was "
                        "computed.");
      }
    }
    return got;
  }
  std::optional<uint64_t> content_length() const override { return inner_.content_length(); }

 private:
  static std::string ToLower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  http::BodyReader& inner_;
  std::string expected_;
  std::unique_ptr<Hasher> hasher_;
  bool done_ = false;
};

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Json NewKeyJson(const auth::NewAccessKey& k) {
  Json j = AccessKeyJson(k.key);
  j["secret_access_key"] = k.secret_access_key;
  return j;
}

}  // namespace

Json AccountJson(const auth::Account& a) {
  return {{"account_id", a.id},
          {"name", a.name},
          {"is_operator", a.is_operator},
          {"created_at", FormatIso8601(a.created_at)}};
}

Json AccessKeyJson(const auth::AccessKey& k) {
  return {{"access_key_id", k.id},
          {"account_id", k.account_id},
          {"user_name", k.user_name},
          {"status", k.status},
          {"created_at", FormatIso8601(k.created_at)}};
}

V1Api::V1Api(auth::AccountService& accounts, auth::Authenticator& authenticator)
    : accounts_(accounts), authenticator_(authenticator) {
  AddAccountRoutes();
}

void V1Api::AddRoute(std::string method, std::string_view pattern, RouteFn fn) {
  router_.Add(std::move(method), pattern, std::move(fn));
}

void V1Api::AddStreamingRoute(std::string method, std::string_view pattern, StreamingRouteFn fn) {
  StreamingRoute route{std::move(method), SplitPath(pattern), "", std::move(fn)};
  if (!route.segments.empty()) {
    const std::string& last = route.segments.back();
    if (last.size() > 5 && last.front() == '{' && last.ends_with("...}")) {
      route.rest_name = last.substr(1, last.size() - 5);
      route.segments.pop_back();
    }
  }
  streaming_.push_back(std::move(route));
}

void V1Api::AddAccountRoutes() {
  AddRoute("GET", "/api/v1/me", [this](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auth::Account a, accounts_.GetAccount(c.principal.account_id));
    Json j = AccountJson(a);
    j["user_name"] = c.principal.user_name;
    if (!c.principal.access_key_id.empty()) j["access_key_id"] = c.principal.access_key_id;
    return Reply{200, j};
  });
  AddRoute("GET", "/api/v1/accounts", [this](const Call& c) -> absl::StatusOr<Reply> {
    RETURN_IF_ERROR(RequireOperator(c.principal));
    ASSIGN_OR_RETURN(auto accounts, accounts_.ListAccounts());
    Json list = Json::array();
    for (const auto& a : accounts) list.push_back(AccountJson(a));
    return Reply{200, {{"accounts", list}}};
  });
  AddRoute("POST", "/api/v1/accounts", [this](const Call& c) -> absl::StatusOr<Reply> {
    RETURN_IF_ERROR(RequireOperator(c.principal));
    ASSIGN_OR_RETURN(std::string name, RequiredString(c.body, "name"));
    ASSIGN_OR_RETURN(auto creds, accounts_.CreateAccount(name, /*is_operator=*/false));
    Json j = AccountJson(creds.account);
    j["access_key_id"] = creds.access_key.key.id;
    j["secret_access_key"] = creds.access_key.secret_access_key;
    j["token"] = creds.token;
    return Reply{201, j};
  });
  AddRoute("GET", "/api/v1/accounts/{id}", [this](const Call& c) -> absl::StatusOr<Reply> {
    const std::string& id = c.params.at("id");
    if (id != c.principal.account_id) RETURN_IF_ERROR(RequireOperator(c.principal));
    ASSIGN_OR_RETURN(auth::Account a, accounts_.GetAccount(id));
    return Reply{200, AccountJson(a)};
  });
  AddRoute("GET", "/api/v1/keys", [this](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto keys, accounts_.ListAccessKeys(c.principal.account_id));
    Json list = Json::array();
    for (const auto& k : keys) list.push_back(AccessKeyJson(k));
    return Reply{200, {{"access_keys", list}}};
  });
  AddRoute("POST", "/api/v1/keys", [this](const Call& c) -> absl::StatusOr<Reply> {
    ASSIGN_OR_RETURN(auto key, accounts_.CreateAccessKey(c.principal.account_id));
    return Reply{201, NewKeyJson(key)};
  });
  AddRoute("DELETE", "/api/v1/keys/{id}", [this](const Call& c) -> absl::StatusOr<Reply> {
    RETURN_IF_ERROR(accounts_.RevokeAccessKey(c.principal.account_id, c.params.at("id")));
    return Reply{200, {{"access_key_id", c.params.at("id")}, {"status", "Inactive"}}};
  });
  AddRoute("POST", "/api/v1/tokens", [this](const Call& c) -> absl::StatusOr<Reply> {
    std::string description;
    if (c.body.is_object() && c.body.contains("description") && c.body["description"].is_string()) {
      description = c.body["description"].get<std::string>();
    }
    ASSIGN_OR_RETURN(std::string token, accounts_.CreateToken(c.principal.account_id, description));
    return Reply{201, {{"token", token}}};
  });
}

http::Response V1Api::Handle(http::Request& request, http::BodyReader& body_reader) {
  auto route = router_.Find(request.method, request.path);
  if (route.fn == nullptr) {
    bool path_matched = route.path_matched;
    std::vector<std::string> segs = SplitPath(request.path);
    for (const auto& s : streaming_) {
      PathParams params;
      if (!MatchStreaming(s.segments, s.rest_name, segs, &params)) continue;
      if (s.method != "*" && s.method != request.method) {
        path_matched = true;
        continue;
      }
      return HandleStreaming(s, std::move(params), request, body_reader);
    }
    if (path_matched) {
      return NativeError(AwsError(absl::StatusCode::kInvalidArgument, "MethodNotAllowed",
                                  request.method + " is not allowed on " + request.path));
    }
    return NativeError(absl::NotFoundError("no such API route: " + request.path));
  }
  auto raw = body_reader.ReadAll(kMaxJsonBody);
  if (!raw.ok()) return NativeError(raw.status());
  auto authed = authenticator_.Authenticate(request, Sha256Hex(*raw));
  if (!authed.ok()) return NativeError(authed.status());
  Json body;
  if (!raw->empty()) {
    auto parsed = ParseJson(*raw);
    if (!parsed.ok()) {
      return NativeError(AwsError(absl::StatusCode::kInvalidArgument, "MalformedJSON",
                                  "request body is not valid JSON"));
    }
    body = std::move(*parsed);
  }
  Call call{authed->principal, route.params, request, body};
  auto reply = (*route.fn)(call);
  if (!reply.ok()) return NativeError(reply.status());
  return http::Response::Json(reply->status, reply->body.dump());
}

http::Response V1Api::HandleStreaming(const StreamingRoute& route, PathParams params,
                                      http::Request& request, http::BodyReader& body_reader) {
  auto authed = authenticator_.Authenticate(request, std::nullopt);
  if (!authed.ok()) return NativeError(authed.status());
  std::optional<VerifyingBodyReader> verifying;
  http::BodyReader* body = &body_reader;
  if (authed->sigv4) {
    const std::string& claimed = authed->sigv4->content_sha256;
    if (IsHex64(claimed)) {
      verifying.emplace(body_reader, claimed);
      body = &*verifying;
    } else if (claimed != "UNSIGNED-PAYLOAD") {
      return NativeError(AwsError(absl::StatusCode::kInvalidArgument, "InvalidRequest",
                                  "this route takes x-amz-content-sha256 UNSIGNED-PAYLOAD or the "
                                  "body's SHA-256, not " +
                                      claimed));
    }
  }
  StreamingCall call{authed->principal, params, request, *body};
  auto response = route.fn(call);
  if (!response.ok()) return NativeError(response.status());
  return std::move(*response);
}

}  // namespace mercato::api::v1
