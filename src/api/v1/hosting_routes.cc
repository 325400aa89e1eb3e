#include "api/v1/hosting_routes.h"

#include <cstdlib>

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

absl::Status Validation(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError", message);
}

absl::Status NoSuchEndpoint(const std::string& name) {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                  fmt::format("Could not find endpoint \"{}\".", name));
}

// A non-negative integer query parameter, or `dflt` when absent.
absl::StatusOr<int64_t> IntParam(const http::Request& r, const char* name, int64_t dflt) {
  auto v = r.QueryParam(name);
  if (!v || v->empty()) return dflt;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (*end != '\0' || n < 0) {
    return Validation(fmt::format("{} must be a non-negative integer", name));
  }
  return static_cast<int64_t>(n);
}

absl::Status RequireEndpoint(MetadataStore& store, const std::string& account,
                             const std::string& name) {
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store.Query("SELECT 1 FROM endpoints WHERE account_id = ? AND name = ?", {account, name}));
  if (rows.empty()) return NoSuchEndpoint(name);
  return absl::OkStatus();
}

}  // namespace

void AddHostingRoutes(V1Api& api, const HostingRouteDeps& deps) {
  HostingRouteDeps d = deps;
  api.AddRoute("GET", "/api/v1/logs/endpoints/{name}", [d](const Call& c) -> absl::StatusOr<Reply> {
    hosting::LogQuery q;
    if (auto since = c.request.QueryParam("since"); since && !since->empty()) {
      ASSIGN_OR_RETURN(q.since, d.logs.ParseSince(*since));
    }
    ASSIGN_OR_RETURN(q.since_line, IntParam(c.request, "since_line", 0));
    ASSIGN_OR_RETURN(int64_t limit, IntParam(c.request, "limit", 10000));
    q.limit = static_cast<size_t>(std::clamp<int64_t>(limit, 1, 10000));
    ASSIGN_OR_RETURN(Json out, d.logs.Read(c.principal.account_id, c.params.at("name"), q));
    return Reply{200, std::move(out)};
  });
  api.AddRoute(
      "GET", "/api/v1/endpoints/{name}/metrics", [d](const Call& c) -> absl::StatusOr<Reply> {
        const std::string& name = c.params.at("name");
        RETURN_IF_ERROR(RequireEndpoint(d.store, c.principal.account_id, name));
        ASSIGN_OR_RETURN(int64_t minutes, IntParam(c.request, "minutes", 1440));
        if (minutes < 1 || minutes > 1440) {
          return Validation("minutes must be between 1 and 1440");
        }
        absl::Time now = d.clock.Now();
        return Reply{200, d.metrics.Series(c.principal.account_id, name,
                                           now - absl::Minutes(minutes), now + absl::Minutes(1))};
      });
  api.AddRoute("GET", "/api/v1/endpoints/{name}/instances",
               [d](const Call& c) -> absl::StatusOr<Reply> {
                 const std::string& name = c.params.at("name");
                 std::string account = c.principal.account_id;
                 if (auto other = c.request.QueryParam("account_id"); other && !other->empty()) {
                   if (!c.principal.is_operator && *other != account) {
                     return AwsError(absl::StatusCode::kPermissionDenied, "AccessDenied",
                                     "only the operator may name another account");
                   }
                   account = *other;
                 }
                 RETURN_IF_ERROR(RequireEndpoint(d.store, account, name));
                 Json list = d.controller.Instances(account, name, c.principal.is_operator);
                 if (list.is_null()) list = Json::array();
                 return Reply{200, {{"EndpointName", name}, {"Instances", std::move(list)}}};
               });
}

}  // namespace mercato::api::v1
