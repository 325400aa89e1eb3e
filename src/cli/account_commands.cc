// `mercato account ...`, `mercato whoami`, `mercato keys ...`.
#include <iostream>

#include "base/status.h"
#include "cli/context.h"

namespace mercato::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void PrintAccounts(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : j["accounts"]) {
    rows.push_back({Str(a, "account_id"), Str(a, "name"),
                    a.value("is_operator", false) ? "yes" : "", Str(a, "created_at")});
  }
  PrintTable({"ACCOUNT ID", "NAME", "OPERATOR", "CREATED"}, rows);
}

void PrintKeys(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : j["access_keys"]) {
    rows.push_back(
        {Str(k, "access_key_id"), Str(k, "user_name"), Str(k, "status"), Str(k, "created_at")});
  }
  PrintTable({"ACCESS KEY ID", "USER", "STATUS", "CREATED"}, rows);
}

void PrintSecretOnce(const Json& j) {
  for (const char* key : {"account_id", "name", "access_key_id", "secret_access_key", "token"}) {
    if (j.contains(key)) std::cout << key << ": " << Str(j, key) << "\n";
  }
  std::cout << "(the secret is shown only once: store it now)\n";
}

}  // namespace

void RegisterAccountCommands(CLI::App& app, Context& ctx) {
  auto* account = app.add_subcommand("account", "manage accounts (operator)");
  account->require_subcommand(1);
  auto* create = account->add_subcommand("create", "create an account with a key and a token");
  auto name = std::make_shared<std::string>();
  create->add_option("NAME", *name, "account name")->required();
  create->callback([&ctx, name] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/accounts", {{"name", *name}}));
      ctx.Print(j, PrintSecretOnce);
      return absl::OkStatus();
    });
  });
  account->add_subcommand("list", "list accounts")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/accounts"));
      ctx.Print(j, PrintAccounts);
      return absl::OkStatus();
    });
  });

  app.add_subcommand("whoami", "show the calling account")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/me"));
      ctx.Print(j, [](const Json& me) {
        std::cout << "account_id: " << Str(me, "account_id") << "\nname: " << Str(me, "name")
                  << "\nuser: " << Str(me, "user_name")
                  << "\noperator: " << (me.value("is_operator", false) ? "yes" : "no") << "\n";
      });
      return absl::OkStatus();
    });
  });

  auto* keys = app.add_subcommand("keys", "manage your access keys");
  keys->require_subcommand(1);
  keys->add_subcommand("create", "create an access key (secret shown once)")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/keys"));
      ctx.Print(j, PrintSecretOnce);
      return absl::OkStatus();
    });
  });
  keys->add_subcommand("list", "list access keys")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/keys"));
      ctx.Print(j, PrintKeys);
      return absl::OkStatus();
    });
  });
  auto* revoke = keys->add_subcommand("revoke", "revoke an access key");
  auto key_id = std::make_shared<std::string>();
  revoke->add_option("ACCESS_KEY_ID", *key_id)->required();
  revoke->callback([&ctx, key_id] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("DELETE", "/api/v1/keys/" + *key_id));
      ctx.Print(j, [&](const Json&) { std::cout << "revoked " << *key_id << "\n"; });
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
