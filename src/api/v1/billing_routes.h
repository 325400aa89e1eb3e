// Native API routes of the billing part (issue 6):
//   PUT/GET  /api/v1/admin/prices/infrastructure         operator: infrastructure price list
//   POST     /api/v1/admin/billing/close-month {"Month"}  operator: close a month (idempotent)
//   GET      /api/v1/admin/billing/periods                operator: closed months
//   PUT/GET  /api/v1/admin/billing/tax-rates              operator: {"US": {"WA": "0.065"}}
//   GET      /api/v1/admin/billing/listing-fees           operator: default and overrides
//   PUT/GET  /api/v1/admin/billing/listing-fees/{product}  operator: {"Percent": "15"}
//   POST     /api/v1/admin/billing/refunds                operator: → Adjustment document
//   GET      /api/v1/admin/billing/invoices/{id}          operator: any invoice
//   PUT/GET  /api/v1/billing/address                      any account: {"Country","State"}
//   GET      /api/v1/bills[?month=YYYY-MM], /api/v1/bills/{id}   the caller's documents
//   GET      /api/v1/sellers/me/disbursements             the caller's disbursements
//   GET      /api/v1/subscriptions/{id}/prices            the prices in force over time
// Operator routes answer 403 AccessDenied to anyone else. Borrows the services.
#pragma once

#include <functional>

#include "api/v1/v1_api.h"
#include "commerce/billing_service.h"
#include "commerce/price_changes.h"
#include "commerce/price_list.h"
#include "commerce/tax_rates.h"

namespace mercato::api::v1 {

struct BillingRouteDeps {
  commerce::BillingService& billing;
  commerce::PriceList& prices;
  commerce::TaxTable& taxes;
  commerce::PriceChanges& changes;
};

void AddBillingRoutes(V1Api& api, BillingRouteDeps deps);

}  // namespace mercato::api::v1
