// The billing part's commands (issue 6), over the native API:
//   mercato bills [--month YYYY-MM] [ID]                 your invoices and adjustments
//   mercato billing address set --country US [--state WA] | show
//   mercato seller disbursements                         your payouts (payout account masked)
//   mercato admin prices set USE INSTANCE_TYPE PRICE | list     (operator)
//   mercato admin billing close-month YYYY-MM | periods
//   mercato admin billing tax-rates set COUNTRY STATE RATE | show
//   mercato admin billing listing-fee set PRODUCT PERCENT | show [PRODUCT]
//   mercato admin billing refund INVOICE AMOUNT --reason TEXT [--product PRODUCT]
// `admin` and `seller` are shared with other parts: they are reused when already registered.
#pragma once

#include "CLI/CLI.hpp"
#include "cli/context.h"

namespace mercato::cli {

void RegisterBillingCommands(CLI::App& app, Context& ctx);

}  // namespace mercato::cli
