// Native API routes for sellers (issue 5), over commerce/seller_service.h:
//   POST /api/v1/sellers      {"LegalName","Email","Country","State"?,"BankAccount",
//                              "BankRouting"} → the seller, payout details masked
//                              (registering again replaces the registration)
//   GET  /api/v1/sellers/me   → the caller's registration; 404 SellerNotRegistered
// Errors: 400 with InvalidLegalName / InvalidEmail / InvalidCountry / InvalidState /
// InvalidBankAccount / InvalidBankRouting / ValidationError. Payout details are never
// returned or logged. The function only registers routes; they borrow the service.
#pragma once

#include "api/v1/v1_api.h"
#include "commerce/seller_service.h"

namespace mercato::api::v1 {

void AddSellerRoutes(V1Api& api, commerce::SellerService& sellers);

}  // namespace mercato::api::v1
