// SubscriptionService's removal grace timeline: OnProductRemoved() and Sweep(), plus the
// row helpers of subscription_rows.h.
#include "base/errors.h"
#include "base/status.h"
#include "commerce/subscription_rows.h"
#include "commerce/subscription_service.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace mercato::commerce {
namespace {

Json GraceData(const Subscription& s) {
  return Json{{"SubscriptionId", s.id},
              {"ProductId", s.product_id},
              {"ProductCode", s.product_code},
              {"Title", s.title},
              {"AccessEndsAt", Day(s.grace_ends_at)}};
}

}  // namespace

absl::StatusOr<Subscription> SubscriptionFromRow(const SqlRow& r) {
  Subscription s{.id = r.Text(0),
                 .account_id = r.Text(1),
                 .product_id = r.Text(2),
                 .product_code = r.Text(3),
                 .title = r.Text(4),
                 .seller_account = r.Text(5),
                 .status = r.Text(6),
                 .eula_hash = r.Text(8),
                 .ref_tag = r.Text(9),
                 .trial_start = r.Int(10),
                 .trial_end = r.Int(11),
                 .created_at = r.Int(12),
                 .cancelled_at = r.Int(13),
                 .grace_ends_at = r.Int(14),
                 .expired_at = r.Int(15)};
  ASSIGN_OR_RETURN(s.offer, ParseJson(r.Text(7)));
  return s;
}

absl::Status InsertSubscription(Transaction& tx, const Subscription& s) {
  return tx
      .Exec(fmt::format("INSERT INTO subscriptions ({}, reminder_sent, expiry_notified,"
                        " use_stopped, stop_attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                        " ?, ?, ?, ?, ?, 0, 0, 0, 0)",
                        kSubscriptionColumns),
            {s.id, s.account_id, s.product_id, s.product_code, s.title, s.seller_account, s.status,
             s.offer.dump(), s.eula_hash, s.ref_tag, s.trial_start, s.trial_end, s.created_at,
             s.cancelled_at, s.grace_ends_at, s.expired_at})
      .status();
}

absl::Status SubscriptionService::OnProductRemoved(std::string_view product_id) {
  int64_t now = absl::ToUnixMicros(clock_.Now());
  int64_t ends =
      now + absl::ToInt64Microseconds(absl::Hours(24) * std::max(0, options_.removal_grace_days));
  std::vector<Subscription> started;
  {
    ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
    ASSIGN_OR_RETURN(SqlRows rows,
                     tx->Query(fmt::format("SELECT {} FROM subscriptions WHERE product_id = ?"
                                           " AND status = 'Active' AND grace_ends_at = 0",
                                           kSubscriptionColumns),
                               {std::string(product_id)}));
    for (const SqlRow& r : rows) {
      ASSIGN_OR_RETURN(Subscription s, SubscriptionFromRow(r));
      s.grace_ends_at = ends;
      RETURN_IF_ERROR(
          tx->Exec("UPDATE subscriptions SET grace_ends_at = ? WHERE id = ?", {ends, s.id})
              .status());
      started.push_back(std::move(s));
    }
    RETURN_IF_ERROR(tx->Commit());
  }
  for (const Subscription& s : started) {
    std::string label = ProductLabel(s.product_code, s.title);
    Notify(s.account_id, "product.removed", fmt::format("Product {} was removed", label),
           fmt::format("Product {} was removed from the marketplace by its seller. Your "
                       "subscription {} keeps full access until {}; after that your endpoints "
                       "using it are stopped and new use is refused.",
                       label, s.id, Day(s.grace_ends_at)),
           GraceData(s));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SubscriptionService::Sweep() {
  int64_t now = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(int reminded, SendReminders(now));
  ASSIGN_OR_RETURN(int expired, ExpireEnded(now));
  return reminded + expired;
}

absl::StatusOr<int> SubscriptionService::SendReminders(int64_t now) {
  int64_t window = absl::ToInt64Microseconds(options_.reminder_before);
  // A grace period no longer than the reminder window: the removal notice already said it.
  bool pointless = absl::Hours(24) * options_.removal_grace_days <= options_.reminder_before;
  // Only before the end: a clock that jumps past it gets the expiry notice alone.
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(fmt::format("SELECT {} FROM subscriptions WHERE status = 'Active'"
                                            " AND reminder_sent = 0 AND grace_ends_at > ? AND"
                                            " grace_ends_at <= ?",
                                            kSubscriptionColumns),
                                {now, now + window}));
  int steps = 0;
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(Subscription s, SubscriptionFromRow(r));
    // Claim the step first, so two sweepers (or a crash and a restart) send it once.
    ASSIGN_OR_RETURN(int64_t claimed,
                     store_.Exec("UPDATE subscriptions SET reminder_sent = 1 WHERE id = ? AND"
                                 " reminder_sent = 0",
                                 {s.id}));
    if (claimed == 0 || pointless) continue;
    std::string label = ProductLabel(s.product_code, s.title);
    Notify(s.account_id, "product.removal_reminder",
           fmt::format("Your access to {} ends on {}", label, Day(s.grace_ends_at)),
           fmt::format("Reminder: product {} was removed from the marketplace. Your access "
                       "through subscription {} ends on {}; after that your endpoints using it "
                       "are stopped and new use is refused.",
                       label, s.id, Day(s.grace_ends_at)),
           GraceData(s));
    ++steps;
  }
  return steps;
}

absl::StatusOr<int> SubscriptionService::ExpireEnded(int64_t now) {
  ASSIGN_OR_RETURN(
      SqlRows rows,
      store_.Query(
          fmt::format("SELECT {}, expiry_notified, use_stopped, stop_attempts FROM"
                      " subscriptions WHERE grace_ends_at > 0 AND grace_ends_at <= ? AND"
                      " (status = 'Active' OR (status = 'Expired' AND"
                      " (expiry_notified = 0 OR (use_stopped = 0 AND stop_attempts < ?))))",
                      kSubscriptionColumns),
          {now, static_cast<int64_t>(options_.max_stop_attempts)}));
  int steps = 0;
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(Subscription s, SubscriptionFromRow(r));
    bool notified = r.Int(16) != 0, stopped = r.Int(17) != 0;
    int64_t attempts = r.Int(18);
    std::string label = ProductLabel(s.product_code, s.title);
    if (s.status == "Active") {
      RETURN_IF_ERROR(store_
                          .Exec("UPDATE subscriptions SET status = 'Expired', expired_at = ?"
                                " WHERE id = ? AND status = 'Active'",
                                {now, s.id})
                          .status());
      ++steps;
    }
    if (!stopped && attempts < options_.max_stop_attempts) {
      std::string reason = fmt::format(
          "the product {} was removed from the marketplace and the access period of "
          "subscription {} ended on {}",
          label, s.id, Day(s.grace_ends_at));
      absl::Status st = options_.stop_product_use
                            ? options_.stop_product_use(s.account_id, s.product_id, reason)
                            : absl::UnavailableError("stopping product use is not available");
      if (st.ok()) {
        RETURN_IF_ERROR(
            store_.Exec("UPDATE subscriptions SET use_stopped = 1 WHERE id = ?", {s.id}).status());
        ++steps;
      } else {
        spdlog::warn(
            "subscription {}: stopping account {}'s use of product {} failed (attempt "
            "{}): {}",
            s.id, s.account_id, s.product_id, attempts + 1, st.ToString());
        RETURN_IF_ERROR(store_
                            .Exec("UPDATE subscriptions SET stop_attempts = stop_attempts + 1"
                                  " WHERE id = ?",
                                  {s.id})
                            .status());
      }
    }
    if (!notified) {
      ASSIGN_OR_RETURN(int64_t claimed,
                       store_.Exec("UPDATE subscriptions SET expiry_notified = 1 WHERE id = ?"
                                   " AND expiry_notified = 0",
                                   {s.id}));
      if (claimed == 0) continue;
      Notify(s.account_id, "subscription.expired",
             fmt::format("Your subscription to {} has expired", label),
             fmt::format("Your access to product {} ended on {} (it was removed from the "
                         "marketplace). Subscription {} is now Expired; your endpoints using it "
                         "have been stopped and new use is refused.",
                         label, Day(s.grace_ends_at), s.id),
             GraceData(s));
      ++steps;
    }
  }
  return steps;
}

}  // namespace mercato::commerce
