// Internal to the subscriptions library: the subscriptions table's columns, row mapping,
// and the label/date formats shared by messages. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "commerce/subscription_service.h"
#include "store/metadata_store.h"

namespace mercato::commerce {

inline constexpr char kSubscriptionColumns[] =
    "id, account_id, product_id, product_code, title, seller_account, status, offer,"
    " eula_hash, ref_tag, trial_start, trial_end, created_at, cancelled_at, grace_ends_at,"
    " expired_at";

absl::StatusOr<Subscription> SubscriptionFromRow(const SqlRow& r);
absl::Status InsertSubscription(Transaction& tx, const Subscription& s);
// "CODE (Title)", or just the code when there is no title.
std::string ProductLabel(std::string_view code, std::string_view title);
// An instant in micros as ISO 8601.
std::string Day(int64_t micros);

}  // namespace mercato::commerce
