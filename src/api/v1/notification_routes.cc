#include "api/v1/notification_routes.h"

#include <cstdlib>

#include "base/errors.h"
#include "base/status.h"

namespace mercato::api::v1 {
namespace {

absl::StatusOr<std::string> WebhookUrl(const Json& body) {
  if (!body.is_object() || !body.contains("Url") || !body["Url"].is_string()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                    "the body must be {\"Url\": \"http://host[:port]/path\"}");
  }
  return body["Url"].get<std::string>();
}

}  // namespace

void AddNotificationRoutes(V1Api& api, commerce::NotificationService& notifications) {
  commerce::NotificationService& n = notifications;
  api.AddRoute("GET", "/api/v1/notifications", [&n](const Call& c) -> absl::StatusOr<Reply> {
    auto unread = c.request.QueryParam("unread");
    bool unread_only = unread && (*unread == "true" || *unread == "1");
    int64_t limit = 100;
    if (auto l = c.request.QueryParam("limit"); l && !l->empty()) {
      char* end = nullptr;
      limit = std::strtoll(l->c_str(), &end, 10);
      if (*end != '\0' || limit < 1 || limit > 1000) {
        return AwsError(absl::StatusCode::kInvalidArgument, "ValidationError",
                        "limit must be between 1 and 1000");
      }
    }
    ASSIGN_OR_RETURN(auto list,
                     n.List(c.principal.account_id, unread_only, static_cast<size_t>(limit)));
    Json out = Json::array();
    for (const auto& item : list) out.push_back(commerce::NotificationJson(item));
    return Reply{200, Json{{"Notifications", std::move(out)}}};
  });
  api.AddRoute("POST", "/api/v1/notifications/{id}/read",
               [&n](const Call& c) -> absl::StatusOr<Reply> {
                 ASSIGN_OR_RETURN(auto item, n.MarkRead(c.principal.account_id, c.params.at("id")));
                 return Reply{200, commerce::NotificationJson(item)};
               });
  api.AddRoute("PUT", "/api/v1/notifications/webhook",
               [&n](const Call& c) -> absl::StatusOr<Reply> {
                 ASSIGN_OR_RETURN(std::string url, WebhookUrl(c.body));
                 RETURN_IF_ERROR(n.SetWebhook(c.principal.account_id, url));
                 return Reply{200, Json{{"Url", url}}};
               });
  api.AddRoute("GET", "/api/v1/notifications/webhook",
               [&n](const Call& c) -> absl::StatusOr<Reply> {
                 ASSIGN_OR_RETURN(auto url, n.GetWebhook(c.principal.account_id));
                 return Reply{200, Json{{"Url", url ? Json(*url) : Json(nullptr)}}};
               });
  api.AddRoute("DELETE", "/api/v1/notifications/webhook",
               [&n](const Call& c) -> absl::StatusOr<Reply> {
                 RETURN_IF_ERROR(n.ClearWebhook(c.principal.account_id));
                 return Reply{200, Json{{"Url", nullptr}}};
               });
}

}  // namespace mercato::api::v1
