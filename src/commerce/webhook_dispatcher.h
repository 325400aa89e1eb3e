// WebhookDispatcher: posts the webhook outbox (NotificationService) to the receivers.
//
// A background thread wakes every `poll_interval`, or at once on Wake(), and posts every
// due Pending row (oldest first) with the notification JSON as the body and the headers
// X-Mercato-Event (the type) and X-Mercato-Delivery (the notification id, so a receiver
// can drop duplicates: delivery is at least once). A 2xx reply marks the row Delivered;
// anything else is retried with exponential backoff (first_backoff, doubling, capped at
// max_backoff) until max_attempts, then the row is Failed with the last error. Due times
// are read from the injected Clock and kept in the store, so pending deliveries survive a
// restart and a test clock that jumps ahead makes retries due.
//
// Thread-safety: Wake() and DeliverDue() may be called from any thread; Start()/Stop()
// from the owner. Borrows the store and clock; Stop() before they go away.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "commerce/webhook_client.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

struct WebhookDispatcherOptions {
  int max_attempts = 8;
  absl::Duration first_backoff = absl::Seconds(5);
  absl::Duration max_backoff = absl::Minutes(30);
  absl::Duration timeout = absl::Seconds(5);  // per delivery step
  absl::Duration poll_interval = absl::Seconds(1);
  size_t batch = 32;
  // How a delivery is sent; PostWebhook by default (tests may inject a fake).
  std::function<absl::StatusOr<int>(const WebhookPost&, absl::Duration)> post;
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(MetadataStore& store, const Clock& clock, WebhookDispatcherOptions options);
  ~WebhookDispatcher();

  void Start();
  void Stop();  // idempotent; waits for the current delivery
  void Wake();
  // One pass over the due rows; returns how many were delivered.
  absl::StatusOr<int> DeliverDue();

 private:
  void Loop();

  MetadataStore& store_;
  const Clock& clock_;
  WebhookDispatcherOptions options_;
  std::mutex pass_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace mercato::commerce
