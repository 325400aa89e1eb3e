// NotificationService: the notifications Mercato sends to an account (a product removed, an
// access period ending, a subscription expired, ...), each kept in the store, listed and
// marked read through the native API, and optionally posted to one webhook URL per
// account.
//
// Webhooks go through a durable outbox: Notify() records the notification and, when the
// account has a webhook, an outbox row in the same transaction, then calls the
// `on_enqueued` callback (the WebhookDispatcher's Wake) so the post happens soon, off the
// caller's thread. A notification is therefore never lost to a crash between "recorded"
// and "posted". Errors carry codes: NotFound "NotificationNotFound", InvalidArgument
// "InvalidWebhookUrl". Thread-safe; borrows the store and clock.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct Notification {
  std::string id;  // "ntf-..."
  std::string account_id;
  std::string type;  // e.g. "product.removed"
  std::string subject;
  std::string message;
  Json data = Json::object();
  absl::Time created_at;
  bool read = false;
};

// {"Id","Account","Type","Subject","Message","Data","CreatedAt","Read"}: the API's shape and
// the body posted to webhooks.
Json NotificationJson(const Notification& n);

// http://host[:port][/path], at most 2048 characters: https is not supported by the
// dispatcher's client, so it is refused here rather than failing every delivery later.
absl::Status ValidateWebhookUrl(std::string_view url);

class NotificationService {
 public:
  NotificationService(MetadataStore& store, const Clock& clock);

  // Called (outside any transaction) after an outbox row was added; set before use.
  void set_on_enqueued(std::function<void()> fn) { on_enqueued_ = std::move(fn); }

  absl::StatusOr<Notification> Notify(std::string_view account, std::string_view type,
                                      std::string_view subject, std::string_view message,
                                      const Json& data);
  // Newest first, at most `limit`.
  absl::StatusOr<std::vector<Notification>> List(std::string_view account, bool unread_only,
                                                 size_t limit = 100);
  // Marks one of `account`'s notifications read (idempotent); another account's id is
  // NotFound like a missing one.
  absl::StatusOr<Notification> MarkRead(std::string_view account, std::string_view id);

  absl::Status SetWebhook(std::string_view account, std::string_view url);
  absl::StatusOr<std::optional<std::string>> GetWebhook(std::string_view account);
  // Removes the webhook; deliveries still pending for it are abandoned.
  absl::Status ClearWebhook(std::string_view account);

 private:
  absl::StatusOr<Notification> Get(std::string_view account, std::string_view id);

  MetadataStore& store_;
  const Clock& clock_;
  std::function<void()> on_enqueued_;
};

}  // namespace mercato::commerce
