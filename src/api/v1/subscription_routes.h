// Native API routes for buyers' subscriptions (issue 5), over
// commerce/subscription_service.h:
//   GET    /api/v1/subscriptions/terms/{product} → {"ProductId","ProductCode","Title",
//          "Visibility","Offer","Eula","EulaHash"}: what subscribing accepts
//   POST   /api/v1/subscriptions {"Product": id-or-code, "RefTag"?, "AcceptEula": true,
//          "EulaHash"?} → the subscription
//   GET    /api/v1/subscriptions → {"Subscriptions": [...]}, newest first
//   GET    /api/v1/subscriptions/{id} → the subscription
//   DELETE /api/v1/subscriptions/{id-or-product} → the subscription, now Cancelled
// Errors (code, HTTP): ProductNotFound 404, ProductNotAvailable 400 (Draft),
// ProductRestricted 400 (removed), NotAllowListed 403 (Limited), EulaNotAccepted 400,
// EulaChanged 409, AlreadySubscribed 409, SubscriptionNotFound 404, InvalidRefTag 400.
// Each caller sees only its own subscriptions. Registers routes that borrow the service.
#pragma once

#include "api/v1/v1_api.h"
#include "commerce/subscription_service.h"

namespace mercato::api::v1 {

void AddSubscriptionRoutes(V1Api& api, commerce::SubscriptionService& subscriptions);

}  // namespace mercato::api::v1
