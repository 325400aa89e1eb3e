#include "commerce/notification_service.h"

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "base/time_format.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

constexpr char kColumns[] = "id, account_id, type, subject, message, data, created_at, is_read";

absl::StatusOr<Notification> FromRow(const SqlRow& r) {
  Notification n{.id = r.Text(0),
                 .account_id = r.Text(1),
                 .type = r.Text(2),
                 .subject = r.Text(3),
                 .message = r.Text(4),
                 .created_at = absl::FromUnixMicros(r.Int(6)),
                 .read = r.Int(7) != 0};
  ASSIGN_OR_RETURN(n.data, ParseJson(r.Text(5)));
  return n;
}

absl::Status BadUrl(std::string_view url, std::string_view why) {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidWebhookUrl",
                  fmt::format("webhook URL \"{}\" {}; expected http://host[:port]/path", url, why));
}

}  // namespace

Json NotificationJson(const Notification& n) {
  return Json{{"Id", n.id},
              {"Account", n.account_id},
              {"Type", n.type},
              {"Subject", n.subject},
              {"Message", n.message},
              {"Data", n.data},
              {"CreatedAt", FormatIso8601(n.created_at)},
              {"Read", n.read}};
}

absl::Status ValidateWebhookUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() > 2048) return BadUrl(url.substr(0, 64), "is longer than 2048 characters");
  if (url.substr(0, 8) == "https://") {
    return BadUrl(url, "uses https, which webhooks do not support yet");
  }
  if (url.substr(0, kScheme.size()) != kScheme) return BadUrl(url, "is not an http:// URL");
  std::string_view rest = url.substr(kScheme.size());
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return BadUrl(url, "has no host (or has user info)");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) return BadUrl(url, "contains a space or control character");
  }
  return absl::OkStatus();
}

NotificationService::NotificationService(MetadataStore& store, const Clock& clock)
    : store_(store), clock_(clock) {}

absl::StatusOr<Notification> NotificationService::Notify(std::string_view account,
                                                         std::string_view type,
                                                         std::string_view subject,
                                                         std::string_view message,
                                                         const Json& data) {
  Notification n{.id = NewId("ntf-"),
                 .account_id = std::string(account),
                 .type = std::string(type),
                 .subject = std::string(subject),
                 .message = std::string(message),
                 .data = data.is_null() ? Json::object() : data,
                 .created_at = clock_.Now(),
                 .read = false};
  int64_t now = absl::ToUnixMicros(n.created_at);
  bool enqueued = false;
  {
    ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
    RETURN_IF_ERROR(tx->Exec("INSERT INTO notifications (id, account_id, type, subject, message,"
                             " data, created_at, is_read) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                             {n.id, n.account_id, n.type, n.subject, n.message, n.data.dump(), now})
                        .status());
    ASSIGN_OR_RETURN(
        SqlRows hook,
        tx->Query("SELECT url FROM notification_webhooks WHERE account_id = ?", {n.account_id}));
    if (!hook.empty()) {
      RETURN_IF_ERROR(
          tx->Exec("INSERT INTO webhook_outbox (id, account_id, url, payload, status,"
                   " attempts, next_attempt_at, last_error, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, 'Pending', 0, ?, '', ?, ?)",
                   {n.id, n.account_id, hook[0].Text(0), NotificationJson(n).dump(), now, now, now})
              .status());
      enqueued = true;
    }
    RETURN_IF_ERROR(tx->Commit());
  }
  if (enqueued && on_enqueued_) on_enqueued_();
  return n;
}

absl::StatusOr<std::vector<Notification>> NotificationService::List(std::string_view account,
                                                                    bool unread_only,
                                                                    size_t limit) {
  std::string sql = fmt::format(
      "SELECT {} FROM notifications WHERE account_id = ?{}"
      " ORDER BY created_at DESC, id DESC LIMIT ?",
      kColumns, unread_only ? " AND is_read = 0" : "");
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(sql, {std::string(account), static_cast<int64_t>(limit)}));
  std::vector<Notification> out;
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(Notification n, FromRow(r));
    out.push_back(std::move(n));
  }
  return out;
}

absl::StatusOr<Notification> NotificationService::Get(std::string_view account,
                                                      std::string_view id) {
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query(
          fmt::format("SELECT {} FROM notifications WHERE account_id = ? AND id = ?", kColumns),
          {std::string(account), std::string(id)}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "NotificationNotFound",
                    fmt::format("No notification \"{}\" in your account.", id));
  }
  return FromRow(rows[0]);
}

absl::StatusOr<Notification> NotificationService::MarkRead(std::string_view account,
                                                           std::string_view id) {
  RETURN_IF_ERROR(store_
                      .Exec("UPDATE notifications SET is_read = 1 WHERE account_id = ? AND id = ?",
                            {std::string(account), std::string(id)})
                      .status());
  return Get(account, id);
}

absl::Status NotificationService::SetWebhook(std::string_view account, std::string_view url) {
  RETURN_IF_ERROR(ValidateWebhookUrl(url));
  return store_
      .Exec(
          "INSERT INTO notification_webhooks (account_id, url, updated_at) VALUES (?, ?, ?)"
          " ON CONFLICT (account_id) DO UPDATE SET url = excluded.url,"
          " updated_at = excluded.updated_at",
          {std::string(account), std::string(url), absl::ToUnixMicros(clock_.Now())})
      .status();
}

absl::StatusOr<std::optional<std::string>> NotificationService::GetWebhook(
    std::string_view account) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT url FROM notification_webhooks WHERE account_id = ?",
                                {std::string(account)}));
  if (rows.empty()) return std::nullopt;
  return rows[0].Text(0);
}

absl::Status NotificationService::ClearWebhook(std::string_view account) {
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  RETURN_IF_ERROR(
      tx->Exec("DELETE FROM notification_webhooks WHERE account_id = ?", {std::string(account)})
          .status());
  RETURN_IF_ERROR(tx->Exec("UPDATE webhook_outbox SET status = 'Failed',"
                           " last_error = 'webhook removed', updated_at = ?"
                           " WHERE account_id = ? AND status = 'Pending'",
                           {absl::ToUnixMicros(clock_.Now()), std::string(account)})
                      .status());
  return tx->Commit();
}

}  // namespace mercato::commerce
