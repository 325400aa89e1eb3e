// SubscriptionService: buyers' subscriptions to marketplace products, the entitlement
// checks every use of a product goes through, and the grace period after a product is
// removed from the marketplace.
//
// Subscribing accepts the product's current offer and EULA: the offer JSON and the EULA's
// SHA-256 are snapshotted in the subscription, and a free trial (offer "FreeTrialDays")
// starts then, once per buyer and product. Rules, each with its error code (base/errors.h):
//   product unknown            → 404 ProductNotFound
//   Draft                      → 400 ProductNotAvailable
//   Restricted (removed)       → 400 ProductRestricted
//   Limited, not allow-listed  → 403 NotAllowListed (allow list and seller's test accounts)
//   EULA not accepted          → 400 EulaNotAccepted; a stale EulaHash → 409 EulaChanged
//   already Active             → 409 AlreadySubscribed (re-subscribing after cancel works)
// When a product is removed (OnProductRemoved), each Active subscription keeps access until
// now + removal_grace_days; Sweep() then sends the reminder `reminder_before` the end and,
// at the end, marks the subscription Expired, stops the buyer's use of the product and
// notifies. Each step sets a flag in the row, so sweeps are idempotent and restart-safe.
//
// Every time comes from the injected Clock. The domain does not know the marketplace
// wiring: products, notifications and stopping endpoints are std::function options; an
// unset one fails with Unavailable ("... not available").
// Thread-safe; borrows the store and clock.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

// What a product offers to subscribe to (the products part's view, copied by the wiring).
struct ProductInfo {
  std::string product_id;
  std::string product_code;
  std::string title;
  std::string seller_account;
  std::string visibility;  // Draft | Limited | Public | Restricted
  std::vector<std::string> allow_list;
  std::vector<std::string> test_accounts;
  Json offer = Json::object();
  std::string eula;
};

struct SubscriptionOptions {
  // A product by id or code; NotFound when there is none.
  std::function<absl::StatusOr<ProductInfo>(std::string_view id_or_code)> product;
  std::function<void(std::string_view account, std::string_view type, std::string_view subject,
                     std::string_view message, const Json& data)>
      notify;
  std::function<absl::Status(std::string_view account, std::string_view product_id,
                             std::string_view reason)>
      stop_product_use;
  int removal_grace_days = 90;
  absl::Duration reminder_before = absl::Hours(72);
  // Attempts to stop a buyer's use before the sweeper gives up (and logs it).
  int max_stop_attempts = 20;
};

struct Subscription {
  std::string id;  // "sub-..."
  std::string account_id;
  std::string product_id;
  std::string product_code;
  std::string title;
  std::string seller_account;
  std::string status;  // Active | Cancelled | Expired
  Json offer = Json::object();
  std::string eula_hash;
  std::string ref_tag;
  int64_t trial_start = 0;  // micros, 0 = none (likewise below)
  int64_t trial_end = 0;
  int64_t created_at = 0;
  int64_t cancelled_at = 0;
  int64_t grace_ends_at = 0;  // access ends then (the product was removed)
  int64_t expired_at = 0;
};

// {"SubscriptionId","Account","ProductId","ProductCode","Title","SellerAccount","Status",
//  "Offer","EulaHash","RefTag","TrialStart","TrialEnd","CreatedAt","CancelledAt",
//  "AccessEndsAt","ExpiredAt"}; unset times are null, others ISO 8601.
Json SubscriptionJson(const Subscription& s);

struct SubscribeRequest {
  std::string product;  // id or code
  std::string ref_tag;  // optional: where the buyer came from (?ref=...)
  bool accept_eula = false;
  std::string eula_hash;  // optional: the EULA hash the buyer read (Terms())
};

class SubscriptionService {
 public:
  SubscriptionService(MetadataStore& store, const Clock& clock, SubscriptionOptions options);

  // What subscribing to `product` would accept, after the same availability checks as
  // Subscribe(): {"ProductId","ProductCode","Title","Visibility","Offer","Eula","EulaHash"}.
  absl::StatusOr<Json> Terms(std::string_view account, std::string_view product);
  absl::StatusOr<Subscription> Subscribe(std::string_view account, const SubscribeRequest& req);
  // Cancels `account`'s Active subscription named by its id, or by product id or code.
  // NotFound "SubscriptionNotFound" if there is none.
  absl::StatusOr<Subscription> Unsubscribe(std::string_view account,
                                           std::string_view id_or_product);
  absl::StatusOr<std::vector<Subscription>> List(std::string_view account);
  absl::StatusOr<Subscription> Get(std::string_view account, std::string_view id);

  // OK while `account` holds an Active subscription to the product whose removal grace
  // period (if any) has not ended; else FailedPrecondition naming the product and why.
  absl::Status CheckEntitlement(std::string_view account, std::string_view product_id);
  // True when `account` holds or held any subscription to the product.
  bool IsSubscriber(std::string_view account, std::string_view product_id);
  // When the account's current (Active) subscription to the product began (micros); 0 if it
  // has none. A restricted version stays usable by subscriptions older than the restriction.
  int64_t ActiveSince(std::string_view account, std::string_view product_id);
  // OK when `caller` may see a package of the product: the seller; an entitled
  // subscriber; else (unless the version is restricted) a Public product, or a Limited one
  // the caller is allowed on. PermissionDenied otherwise.
  absl::Status CanView(std::string_view caller, std::string_view product_id,
                       bool version_restricted);

  // Starts the grace period of every Active subscription to the (removed) product that has
  // none yet, and notifies each subscriber ("product.removed") with the end date.
  absl::Status OnProductRemoved(std::string_view product_id);
  // One pass of the grace timeline (reminders, expiry, stopping use); returns the number
  // of steps taken. SubscriptionSweeper calls it.
  absl::StatusOr<int> Sweep();

 private:
  absl::StatusOr<ProductInfo> LookUp(std::string_view id_or_code);
  absl::Status CheckAvailable(std::string_view account, const ProductInfo& p);
  void Notify(std::string_view account, std::string_view type, std::string_view subject,
              std::string_view message, const Json& data);
  absl::StatusOr<int> SendReminders(int64_t now);
  absl::StatusOr<int> ExpireEnded(int64_t now);

  MetadataStore& store_;
  const Clock& clock_;
  SubscriptionOptions options_;
};

}  // namespace mercato::commerce
