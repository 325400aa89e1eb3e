// Native API routes for notifications (issue 5), over commerce/notification_service.h:
//   GET  /api/v1/notifications[?unread=true&limit=N] → {"Notifications": [...]}, newest
//        first (default limit 100, at most 1000)
//   POST /api/v1/notifications/{id}/read  → the notification, now read; 404
//        NotificationNotFound (also for another account's id)
//   PUT  /api/v1/notifications/webhook {"Url": "http://..."} → {"Url"}; 400 InvalidWebhookUrl
//   GET  /api/v1/notifications/webhook → {"Url": "..." | null}
//   DELETE /api/v1/notifications/webhook → {"Url": null} (pending deliveries are dropped)
// Each caller sees only its own records. The function only registers routes; they borrow
// the service.
#pragma once

#include "api/v1/v1_api.h"
#include "commerce/notification_service.h"

namespace mercato::api::v1 {

void AddNotificationRoutes(V1Api& api, commerce::NotificationService& notifications);

}  // namespace mercato::api::v1
