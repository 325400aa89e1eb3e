#include "commerce/subscription_service.h"

#include <algorithm>
#include <cctype>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "base/time_format.h"
#include "commerce/subscription_rows.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

absl::Status ValidateRefTag(std::string_view tag) {
  bool ok = tag.size() <= 128 && std::all_of(tag.begin(), tag.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '-' || c == '_' || c == '.';
            });
  if (ok) return absl::OkStatus();
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidRefTag",
                  "ref tag must be at most 128 of A-Z a-z 0-9 . _ -");
}

int64_t FreeTrialDays(const Json& offer) {
  if (!offer.is_object() || !offer.contains("FreeTrialDays")) return 0;
  const Json& d = offer["FreeTrialDays"];
  if (d.is_number_integer()) return std::max<int64_t>(0, d.get<int64_t>());
  if (d.is_number()) return std::max<int64_t>(0, static_cast<int64_t>(d.get<double>()));
  return 0;
}

}  // namespace

std::string ProductLabel(std::string_view code, std::string_view title) {
  if (title.empty()) return std::string(code);
  return fmt::format("{} ({})", code, title);
}

std::string Day(int64_t micros) { return FormatIso8601(absl::FromUnixMicros(micros)); }

Json SubscriptionJson(const Subscription& s) {
  auto time = [](int64_t t) { return t == 0 ? Json(nullptr) : Json(Day(t)); };
  return Json{{"SubscriptionId", s.id},
              {"Account", s.account_id},
              {"ProductId", s.product_id},
              {"ProductCode", s.product_code},
              {"Title", s.title},
              {"SellerAccount", s.seller_account},
              {"Status", s.status},
              {"Offer", s.offer},
              {"EulaHash", s.eula_hash},
              {"RefTag", s.ref_tag},
              {"TrialStart", time(s.trial_start)},
              {"TrialEnd", time(s.trial_end)},
              {"CreatedAt", time(s.created_at)},
              {"CancelledAt", time(s.cancelled_at)},
              {"AccessEndsAt", time(s.grace_ends_at)},
              {"ExpiredAt", time(s.expired_at)}};
}

SubscriptionService::SubscriptionService(MetadataStore& store, const Clock& clock,
                                         SubscriptionOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<ProductInfo> SubscriptionService::LookUp(std::string_view id_or_code) {
  if (!options_.product) return absl::UnavailableError("the product catalog is not available");
  absl::StatusOr<ProductInfo> p = options_.product(id_or_code);
  if (absl::IsNotFound(p.status())) {
    return AwsError(absl::StatusCode::kNotFound, "ProductNotFound",
                    fmt::format("No product \"{}\" in the marketplace.", id_or_code));
  }
  return p;
}

void SubscriptionService::Notify(std::string_view account, std::string_view type,
                                 std::string_view subject, std::string_view message,
                                 const Json& data) {
  if (options_.notify) options_.notify(account, type, subject, message, data);
}

absl::Status SubscriptionService::CheckAvailable(std::string_view account, const ProductInfo& p) {
  std::string label = ProductLabel(p.product_code, p.title);
  if (p.visibility == "Public") return absl::OkStatus();
  if (p.visibility == "Restricted") {
    return AwsError(absl::StatusCode::kInvalidArgument, "ProductRestricted",
                    fmt::format("Product {} has been removed from the marketplace and accepts "
                                "no new subscriptions.",
                                label));
  }
  if (p.visibility == "Limited") {
    if (Contains(p.allow_list, account) || Contains(p.test_accounts, account)) {
      return absl::OkStatus();
    }
    return AwsError(absl::StatusCode::kPermissionDenied, "NotAllowListed",
                    fmt::format("Product {} is in limited release: only the accounts on its "
                                "allow list and the seller's test accounts may subscribe, and "
                                "account {} is not one of them.",
                                label, account));
  }
  return AwsError(absl::StatusCode::kInvalidArgument, "ProductNotAvailable",
                  fmt::format("Product {} is not published yet ({}) and accepts no "
                              "subscriptions.",
                              label, p.visibility.empty() ? "Draft" : p.visibility));
}

absl::StatusOr<Json> SubscriptionService::Terms(std::string_view account,
                                                std::string_view product) {
  ASSIGN_OR_RETURN(ProductInfo p, LookUp(product));
  RETURN_IF_ERROR(CheckAvailable(account, p));
  return Json{{"ProductId", p.product_id},
              {"ProductCode", p.product_code},
              {"Title", p.title},
              {"Visibility", p.visibility},
              {"Offer", p.offer},
              {"Eula", p.eula},
              {"EulaHash", Sha256Hex(p.eula)}};
}

absl::StatusOr<Subscription> SubscriptionService::Subscribe(std::string_view account,
                                                            const SubscribeRequest& req) {
  RETURN_IF_ERROR(ValidateRefTag(req.ref_tag));
  ASSIGN_OR_RETURN(ProductInfo p, LookUp(req.product));
  RETURN_IF_ERROR(CheckAvailable(account, p));
  std::string label = ProductLabel(p.product_code, p.title);
  std::string eula_hash = Sha256Hex(p.eula);
  if (!req.accept_eula) {
    return AwsError(absl::StatusCode::kInvalidArgument, "EulaNotAccepted",
                    fmt::format("Subscribing to {} requires accepting its EULA (AcceptEula: "
                                "true); read it with `mercato subscribe {}`.",
                                label, p.product_code));
  }
  if (!req.eula_hash.empty() && req.eula_hash != eula_hash) {
    return AwsError(absl::StatusCode::kAlreadyExists, "EulaChanged",
                    fmt::format("The EULA of {} changed since you read it; read it again.", label));
  }
  Subscription s{.id = NewId("sub-"),
                 .account_id = std::string(account),
                 .product_id = p.product_id,
                 .product_code = p.product_code,
                 .title = p.title,
                 .seller_account = p.seller_account,
                 .status = "Active",
                 .offer = p.offer.is_null() ? Json::object() : p.offer,
                 .eula_hash = eula_hash,
                 .ref_tag = req.ref_tag,
                 .created_at = absl::ToUnixMicros(clock_.Now())};
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(SqlRows held, tx->Query("SELECT status, trial_end FROM subscriptions"
                                           " WHERE account_id = ? AND product_id = ?",
                                           {s.account_id, s.product_id}));
  bool had_trial = false;
  for (const SqlRow& r : held) {
    if (r.Text(0) == "Active") {
      return AwsError(absl::StatusCode::kAlreadyExists, "AlreadySubscribed",
                      fmt::format("You already have an active subscription to {}.", label));
    }
    had_trial = had_trial || r.Int(1) != 0;
  }
  if (int64_t days = FreeTrialDays(s.offer); days > 0 && !had_trial) {
    s.trial_start = s.created_at;
    s.trial_end = s.created_at + absl::ToInt64Microseconds(absl::Hours(24) * days);
  }
  RETURN_IF_ERROR(InsertSubscription(*tx, s));
  RETURN_IF_ERROR(tx->Commit());
  return s;
}

absl::StatusOr<Subscription> SubscriptionService::Unsubscribe(std::string_view account,
                                                              std::string_view id_or_product) {
  std::string key(id_or_product);
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  ASSIGN_OR_RETURN(SqlRows rows,
                   tx->Query(fmt::format("SELECT {} FROM subscriptions WHERE account_id = ? AND"
                                         " status = 'Active' AND (id = ? OR product_id = ? OR"
                                         " product_code = ?)",
                                         kSubscriptionColumns),
                             {std::string(account), key, key, key}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "SubscriptionNotFound",
                    fmt::format("You have no active subscription \"{}\" (give a subscription id, "
                                "product id or product code).",
                                key));
  }
  ASSIGN_OR_RETURN(Subscription s, SubscriptionFromRow(rows[0]));
  s.status = "Cancelled";
  s.cancelled_at = absl::ToUnixMicros(clock_.Now());
  RETURN_IF_ERROR(tx->Exec("UPDATE subscriptions SET status = 'Cancelled', cancelled_at = ?"
                           " WHERE id = ?",
                           {s.cancelled_at, s.id})
                      .status());
  RETURN_IF_ERROR(tx->Commit());
  return s;
}

absl::StatusOr<std::vector<Subscription>> SubscriptionService::List(std::string_view account) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(fmt::format("SELECT {} FROM subscriptions WHERE account_id = ?"
                                            " ORDER BY created_at DESC, id",
                                            kSubscriptionColumns),
                                {std::string(account)}));
  std::vector<Subscription> out;
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(Subscription s, SubscriptionFromRow(r));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<Subscription> SubscriptionService::Get(std::string_view account,
                                                      std::string_view id) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query(fmt::format("SELECT {} FROM subscriptions WHERE"
                                                          " account_id = ? AND id = ?",
                                                          kSubscriptionColumns),
                                              {std::string(account), std::string(id)}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "SubscriptionNotFound",
                    fmt::format("No subscription \"{}\" in your account.", id));
  }
  return SubscriptionFromRow(rows[0]);
}

absl::Status SubscriptionService::CheckEntitlement(std::string_view account,
                                                   std::string_view product_id) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(fmt::format("SELECT {} FROM subscriptions WHERE account_id = ?"
                                            " AND product_id = ? ORDER BY created_at DESC",
                                            kSubscriptionColumns),
                                {std::string(account), std::string(product_id)}));
  int64_t now = absl::ToUnixMicros(clock_.Now());
  std::vector<Subscription> subs;
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(Subscription s, SubscriptionFromRow(r));
    subs.push_back(std::move(s));
  }
  for (const Subscription& s : subs) {
    if (s.status == "Active" && (s.grace_ends_at == 0 || now < s.grace_ends_at)) {
      return absl::OkStatus();
    }
  }
  if (!subs.empty()) {
    const Subscription& last = subs.front();
    std::string label = ProductLabel(last.product_code, last.title);
    if (last.grace_ends_at != 0 && last.status != "Cancelled") {
      return absl::FailedPreconditionError(
          fmt::format("Your access to product {} ended on {}: the product was removed from the "
                      "marketplace.",
                      label, Day(last.grace_ends_at)));
    }
    return absl::FailedPreconditionError(
        fmt::format("You are not subscribed to product {} (your subscription was cancelled on {}). "
                    "Subscribe again with `mercato subscribe {}`.",
                    label, Day(last.cancelled_at), last.product_code));
  }
  std::string code(product_id), label(product_id);
  if (options_.product) {
    if (absl::StatusOr<ProductInfo> p = options_.product(product_id); p.ok()) {
      code = p->product_code;
      label = ProductLabel(p->product_code, p->title);
    }
  }
  return absl::FailedPreconditionError(
      fmt::format("You are not subscribed to product {} (no subscription in account {}). "
                  "Subscribe first with `mercato subscribe {}`.",
                  label, account, code));
}

int64_t SubscriptionService::ActiveSince(std::string_view account, std::string_view product_id) {
  auto rows = store_.Query(
      "SELECT MIN(created_at) FROM subscriptions WHERE account_id = ? AND product_id = ?"
      " AND status = 'Active'",
      {std::string(account), std::string(product_id)});
  if (!rows.ok() || rows->empty() || (*rows)[0].IsNull(0)) return 0;
  return (*rows)[0].Int(0);
}

bool SubscriptionService::IsSubscriber(std::string_view account, std::string_view product_id) {
  absl::StatusOr<SqlRows> rows =
      store_.Query("SELECT 1 FROM subscriptions WHERE account_id = ? AND product_id = ? LIMIT 1",
                   {std::string(account), std::string(product_id)});
  return rows.ok() && !rows->empty();
}

absl::Status SubscriptionService::CanView(std::string_view caller, std::string_view product_id,
                                          bool version_restricted) {
  ASSIGN_OR_RETURN(ProductInfo p, LookUp(product_id));
  if (caller == p.seller_account) return absl::OkStatus();
  if (CheckEntitlement(caller, p.product_id).ok()) return absl::OkStatus();
  std::string label = ProductLabel(p.product_code, p.title);
  if (version_restricted) {
    return absl::PermissionDeniedError(fmt::format(
        "This version of product {} is restricted: only its existing subscribers may use it.",
        label));
  }
  if (p.visibility == "Public") return absl::OkStatus();
  if (p.visibility == "Limited" &&
      (Contains(p.allow_list, caller) || Contains(p.test_accounts, caller))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      fmt::format("Product {} is not available to account {}.", label, caller));
}

}  // namespace mercato::commerce
