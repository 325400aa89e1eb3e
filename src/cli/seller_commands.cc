// `mercato seller ...` (and the registration of the notification and admin commands).
#include "cli/seller_commands.h"

#include <iostream>
#include <memory>

#include "base/status.h"

namespace mercato::cli {
namespace {

void PrintSeller(const Json& j) {
  for (const char* key : {"AccountId", "LegalName", "Email", "Country", "State", "BankAccount",
                          "BankRouting", "CreatedAt", "UpdatedAt"}) {
    if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
      std::cout << key << ": " << j[key].get<std::string>() << "\n";
    }
  }
}

}  // namespace

void RegisterSellerCommands(CLI::App& app, Context& ctx) {
  auto* seller = app.add_subcommand("seller", "register as a seller and show the registration");
  seller->require_subcommand(1);

  struct Args {
    std::string legal_name, email, country, state, bank_account, bank_routing;
  };
  auto args = std::make_shared<Args>();
  auto* reg = seller->add_subcommand(
      "register",
      "register (or update) this account as a seller; payout details are stored "
      "encrypted and shown masked");
  reg->add_option("--legal-name", args->legal_name, "legal name of the business")->required();
  reg->add_option("--email", args->email, "contact e-mail")->required();
  reg->add_option("--country", args->country, "ISO 3166-1 alpha-2 country code, e.g. US")
      ->required();
  reg->add_option("--state", args->state, "state (USPS code, required in the US)");
  reg->add_option("--bank-account", args->bank_account, "bank account number (4-34 letters/digits)")
      ->required();
  reg->add_option("--bank-routing", args->bank_routing, "bank routing number (9 digits)")
      ->required();
  reg->callback([&ctx, args] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      Json body{{"LegalName", args->legal_name},     {"Email", args->email},
                {"Country", args->country},          {"State", args->state},
                {"BankAccount", args->bank_account}, {"BankRouting", args->bank_routing}};
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/sellers", body));
      ctx.Print(j, [](const Json& s) {
        std::cout << "registered seller\n";
        PrintSeller(s);
      });
      return absl::OkStatus();
    });
  });
  seller->add_subcommand("show", "show this account's seller registration")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/sellers/me"));
      ctx.Print(j, PrintSeller);
      return absl::OkStatus();
    });
  });

  RegisterNotificationCommands(app, ctx);
  RegisterAdminCommands(app, ctx);
}

}  // namespace mercato::cli
