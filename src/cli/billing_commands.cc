// `mercato bills`, `billing address`, `seller disbursements`, `admin prices`, `admin billing`.
#include "cli/billing_commands.h"

#include <iostream>
#include <memory>

#include "base/status.h"

namespace mercato::cli {
namespace {

// The subcommand `name` of `parent`, added when no other part registered it yet.
CLI::App* Sub(CLI::App& parent, const std::string& name, const std::string& help) {
  auto found = parent.get_subcommands([&](CLI::App* a) { return a->get_name() == name; });
  if (!found.empty()) return found.front();
  CLI::App* app = parent.add_subcommand(name, help);
  app->require_subcommand(1);
  return app;
}

std::string S(const Json& j, const char* key) {
  if (!j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void PrintInvoice(const Json& j) {
  for (const char* k : {"InvoiceId", "Kind", "Month", "RefersTo", "Reason", "IssuedAt"}) {
    if (!S(j, k).empty()) std::cout << k << ": " << S(j, k) << "\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const Json& l : j.value("Lines", Json::array())) {
    rows.push_back({S(l, "LineNo"), S(l, "Kind"), S(l, "ProductId"), S(l, "Use"),
                    S(l, "InstanceType"), S(l, "Pricing"), S(l, "Quantity"), S(l, "Unit"),
                    S(l, "UnitPrice"), S(l, "Amount")});
  }
  if (!rows.empty()) {
    PrintTable({"#", "KIND", "PRODUCT", "USE", "INSTANCE TYPE", "PRICING", "QUANTITY", "UNIT",
                "UNIT PRICE", "AMOUNT"},
               rows);
  }
  std::cout << "Software: " << S(j, "SoftwareSubtotal")
            << "  Infrastructure: " << S(j, "InfrastructureSubtotal") << "  Tax ("
            << S(j, "TaxCountry") << " " << S(j, "TaxState") << " " << S(j, "TaxRate")
            << "): " << S(j, "Tax") << "  Total: " << S(j, "Total") << " USD\n";
}

void Call(Context& ctx, std::string method, std::string target, Json body,
          std::function<void(const Json&)> human) {
  RunWithClient(ctx, [&](const Client& c) -> absl::Status {
    ASSIGN_OR_RETURN(Json j, c.Call(method, target, body));
    ctx.Print(j, human);
    return absl::OkStatus();
  });
}

void PrintJson(const Json& j) { std::cout << j.dump(2) << "\n"; }

void RegisterBuyerCommands(CLI::App& app, Context& ctx) {
  struct Args {
    std::string month, id, country, state;
  };
  auto a = std::make_shared<Args>();
  auto* bills = app.add_subcommand("bills", "your monthly invoices and adjustments");
  bills->add_option("--month", a->month, "only this month (YYYY-MM)");
  bills->add_option("ID", a->id, "show one document with its lines");
  bills->callback([&ctx, a] {
    if (!a->id.empty()) return Call(ctx, "GET", "/api/v1/bills/" + a->id, nullptr, PrintInvoice);
    std::string target = "/api/v1/bills" + (a->month.empty() ? "" : "?month=" + a->month);
    Call(ctx, "GET", target, nullptr, [](const Json& j) {
      std::vector<std::vector<std::string>> rows;
      for (const Json& b : j["Bills"]) {
        rows.push_back({S(b, "InvoiceId"), S(b, "Kind"), S(b, "Month"), S(b, "RefersTo"),
                        S(b, "SoftwareSubtotal"), S(b, "InfrastructureSubtotal"), S(b, "Tax"),
                        S(b, "Total")});
      }
      PrintTable({"ID", "KIND", "MONTH", "REFERS TO", "SOFTWARE", "INFRASTRUCTURE", "TAX", "TOTAL"},
                 rows);
    });
  });
  auto* billing = Sub(app, "billing", "your billing address (sales tax)");
  auto* address = billing->add_subcommand("address", "the address tax is applied by");
  address->require_subcommand(1);
  auto* set = address->add_subcommand("set", "set your billing address");
  set->add_option("--country", a->country, "ISO 3166-1 alpha-2, e.g. US")->required();
  set->add_option("--state", a->state, "USPS state code in the US, e.g. WA");
  set->callback([&ctx, a] {
    Call(ctx, "PUT", "/api/v1/billing/address", {{"Country", a->country}, {"State", a->state}},
         PrintJson);
  });
  address->add_subcommand("show", "show your billing address")->callback([&ctx] {
    Call(ctx, "GET", "/api/v1/billing/address", nullptr, PrintJson);
  });
  auto* seller = Sub(app, "seller", "register as a seller and show the registration");
  seller->add_subcommand("disbursements", "your monthly payouts: revenue - listing fee - refunds")
      ->callback([&ctx] {
        Call(ctx, "GET", "/api/v1/sellers/me/disbursements", nullptr, [](const Json& j) {
          std::vector<std::vector<std::string>> rows;
          for (const Json& d : j["Disbursements"]) {
            rows.push_back({S(d, "Month"), S(d, "SoftwareRevenue"), S(d, "ListingFee"),
                            S(d, "Refunds"), S(d, "Amount"), S(d, "TaxCollected")});
          }
          PrintTable({"MONTH", "REVENUE", "LISTING FEE", "REFUNDS", "AMOUNT", "TAX COLLECTED"},
                     rows);
          if (j["PayoutAccount"].is_object()) {
            std::cout << "Paid to account " << S(j["PayoutAccount"], "BankAccount") << ", routing "
                      << S(j["PayoutAccount"], "BankRouting") << "\n";
          }
        });
      });
}

void RegisterAdminBillingCommands(CLI::App& app, Context& ctx) {
  struct Args {
    std::string use, type, price, month, country, state, rate, product, percent, invoice, amount,
        reason;
  };
  auto a = std::make_shared<Args>();
  auto* admin = Sub(app, "admin", "operator commands");
  auto* prices = admin->add_subcommand("prices", "the infrastructure price list");
  prices->require_subcommand(1);
  auto* pset = prices->add_subcommand("set", "set a price per instance-hour");
  pset->add_option("USE", a->use, "Endpoint, Transform or Training")->required();
  pset->add_option("INSTANCE_TYPE", a->type, "e.g. ml.m5.large")->required();
  pset->add_option("PRICE", a->price, "USD per instance-hour, e.g. 0.115")->required();
  pset->callback([&ctx, a] {
    Call(ctx, "PUT", "/api/v1/admin/prices/infrastructure", {{a->use, {{a->type, a->price}}}},
         PrintJson);
  });
  prices->add_subcommand("list", "show the price list")->callback([&ctx] {
    Call(ctx, "GET", "/api/v1/admin/prices/infrastructure", nullptr, [](const Json& j) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [use, types] : j["Prices"].items()) {
        for (const auto& [type, price] : types.items()) {
          rows.push_back({use, type, price.get<std::string>()});
        }
      }
      PrintTable({"USE", "INSTANCE TYPE", "USD/HOUR"}, rows);
    });
  });
  auto* billing = admin->add_subcommand("billing", "month close, tax, listing fees, refunds");
  billing->require_subcommand(1);
  auto* close = billing->add_subcommand("close-month", "bill a month that has ended");
  close->add_option("MONTH", a->month, "YYYY-MM")->required();
  close->callback([&ctx, a] {
    Call(ctx, "POST", "/api/v1/admin/billing/close-month", {{"Month", a->month}}, PrintJson);
  });
  billing->add_subcommand("periods", "the closed months")->callback([&ctx] {
    Call(ctx, "GET", "/api/v1/admin/billing/periods", nullptr, PrintJson);
  });
  auto* tax = billing->add_subcommand("tax-rates", "sales and use tax rates by state");
  tax->require_subcommand(1);
  auto* tset = tax->add_subcommand("set", "set one rate (the others are kept)");
  tset->add_option("COUNTRY", a->country, "e.g. US")->required();
  tset->add_option("STATE", a->state, "e.g. WA")->required();
  tset->add_option("RATE", a->rate, "a fraction, e.g. 0.065")->required();
  tset->callback([&ctx, a] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json rates, c.Call("GET", "/api/v1/admin/billing/tax-rates"));
      rates[a->country][a->state] = a->rate;
      ASSIGN_OR_RETURN(Json j, c.Call("PUT", "/api/v1/admin/billing/tax-rates", rates));
      ctx.Print(j, PrintJson);
      return absl::OkStatus();
    });
  });
  tax->add_subcommand("show", "show the rates")->callback([&ctx] {
    Call(ctx, "GET", "/api/v1/admin/billing/tax-rates", nullptr, PrintJson);
  });
  auto* fee = billing->add_subcommand("listing-fee", "the operator's share of software revenue");
  fee->require_subcommand(1);
  auto* fset = fee->add_subcommand("set", "override the listing fee of a product");
  fset->add_option("PRODUCT", a->product, "product id")->required();
  fset->add_option("PERCENT", a->percent, "e.g. 15")->required();
  fset->callback([&ctx, a] {
    Call(ctx, "PUT", "/api/v1/admin/billing/listing-fees/" + a->product, {{"Percent", a->percent}},
         PrintJson);
  });
  auto* fshow = fee->add_subcommand("show", "the default and the overrides (or one product)");
  fshow->add_option("PRODUCT", a->product, "product id");
  fshow->callback([&ctx, a] {
    Call(ctx, "GET",
         "/api/v1/admin/billing/listing-fees" + (a->product.empty() ? "" : "/" + a->product),
         nullptr, PrintJson);
  });
  auto* refund = billing->add_subcommand(
      "refund", "refund or credit an invoice (a new adjustment document; the invoice stays)");
  refund->add_option("INVOICE", a->invoice, "invoice id")->required();
  refund->add_option("AMOUNT", a->amount, "USD before tax, e.g. 12.50")->required();
  refund->add_option("--reason", a->reason, "why")->required();
  refund->add_option("--product", a->product,
                     "refund this product's software charges (the seller pays it back); "
                     "without: an infrastructure credit");
  refund->callback([&ctx, a] {
    Json body{{"InvoiceId", a->invoice}, {"Amount", a->amount}, {"Reason", a->reason}};
    if (!a->product.empty()) body["ProductId"] = a->product;
    Call(ctx, "POST", "/api/v1/admin/billing/refunds", body, PrintInvoice);
  });
}

}  // namespace

void RegisterBillingCommands(CLI::App& app, Context& ctx) {
  RegisterBuyerCommands(app, ctx);
  RegisterAdminBillingCommands(app, ctx);
}

}  // namespace mercato::cli
