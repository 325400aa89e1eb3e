#include "commerce/webhook_dispatcher.h"

#include <algorithm>
#include <chrono>

#include "base/json.h"
#include "base/status.h"
#include "spdlog/spdlog.h"

namespace mercato::commerce {

WebhookDispatcher::WebhookDispatcher(MetadataStore& store, const Clock& clock,
                                     WebhookDispatcherOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {
  if (!options_.post) options_.post = PostWebhook;
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void WebhookDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void WebhookDispatcher::Loop() {
  auto poll = std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.poll_interval));
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, poll, [this] { return stop_ || woken_; });
      if (stop_) return;
      woken_ = false;
    }
    absl::StatusOr<int> n = DeliverDue();
    if (!n.ok()) spdlog::warn("webhook dispatcher: {}", n.status().ToString());
  }
}

absl::StatusOr<int> WebhookDispatcher::DeliverDue() {
  std::lock_guard<std::mutex> pass(pass_mu_);
  int64_t now = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT id, url, payload, attempts, account_id FROM webhook_outbox"
                                " WHERE status = 'Pending' AND next_attempt_at <= ?"
                                " ORDER BY next_attempt_at, created_at LIMIT ?",
                                {now, static_cast<int64_t>(options_.batch)}));
  int delivered = 0;
  for (const SqlRow& r : rows) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    std::string id = r.Text(0), url = r.Text(1);
    int64_t attempts = r.Int(3) + 1;
    WebhookPost post{.url = url, .body = r.Text(2), .headers = {{"X-Mercato-Delivery", id}}};
    if (auto payload = ParseJson(post.body);
        payload.ok() && payload->contains("Type") && (*payload)["Type"].is_string()) {
      post.headers.push_back({"X-Mercato-Event", (*payload)["Type"].get<std::string>()});
    }
    absl::StatusOr<int> status = options_.post(post, options_.timeout);
    int64_t after = absl::ToUnixMicros(clock_.Now());
    if (status.ok() && *status >= 200 && *status < 300) {
      RETURN_IF_ERROR(store_
                          .Exec("UPDATE webhook_outbox SET status = 'Delivered', attempts = ?,"
                                " last_error = '', updated_at = ? WHERE id = ?",
                                {attempts, after, id})
                          .status());
      ++delivered;
      continue;
    }
    std::string error =
        status.ok() ? "HTTP " + std::to_string(*status) : status.status().ToString();
    bool give_up = attempts >= options_.max_attempts;
    absl::Duration backoff =
        options_.first_backoff * (int64_t{1} << std::min<int64_t>(attempts - 1, 20));
    backoff = std::min(backoff, options_.max_backoff);
    spdlog::info("webhook delivery {} for account {} failed (attempt {}): {}{}", id, r.Text(4),
                 attempts, error, give_up ? "; giving up" : "");
    RETURN_IF_ERROR(store_
                        .Exec("UPDATE webhook_outbox SET status = ?, attempts = ?,"
                              " next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
                              {std::string(give_up ? "Failed" : "Pending"), attempts,
                               after + absl::ToInt64Microseconds(backoff), error, after, id})
                        .status());
  }
  return delivered;
}

}  // namespace mercato::commerce
