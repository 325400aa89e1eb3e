#include "cli/subscription_commands.h"

#include <iostream>
#include <memory>
#include <sstream>

#include "base/status.h"

namespace mercato::cli {
namespace {

constexpr int kEulaPreviewLines = 12;

std::string Str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// A path segment, percent-encoded (product codes are plain, but be safe).
std::string Segment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void PrintTerms(const Json& terms) {
  std::cout << "Product: " << Str(terms, "ProductCode") << " (" << Str(terms, "Title") << ")\n";
  if (terms.contains("Offer") && !terms["Offer"].empty()) {
    std::cout << "Offer: " << terms["Offer"].dump() << "\n";
  }
  std::istringstream eula(Str(terms, "Eula"));
  std::string line;
  int shown = 0, total = 0;
  std::cout << "End-user license agreement:\n";
  while (std::getline(eula, line)) {
    if (++total <= kEulaPreviewLines) {
      std::cout << "  | " << line << "\n";
      ++shown;
    }
  }
  if (total > shown) std::cout << "  | ... (" << total - shown << " more lines)\n";
  std::cout << "By subscribing you accept this EULA (sha256 " << Str(terms, "EulaHash") << ").\n";
}

void PrintSubscription(const Json& s) {
  std::cout << "subscription " << Str(s, "SubscriptionId") << ": " << Str(s, "ProductCode") << " ("
            << Str(s, "Title") << ") " << Str(s, "Status") << "\n";
  if (!Str(s, "TrialEnd").empty()) std::cout << "free trial until " << Str(s, "TrialEnd") << "\n";
  if (!Str(s, "AccessEndsAt").empty()) {
    std::cout << "access ends " << Str(s, "AccessEndsAt") << " (product removed)\n";
  }
}

void PrintSubscriptions(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& s : j["Subscriptions"]) {
    rows.push_back({Str(s, "SubscriptionId"), Str(s, "ProductCode"), Str(s, "Title"),
                    Str(s, "Status"), Str(s, "CreatedAt"), Str(s, "TrialEnd"),
                    Str(s, "AccessEndsAt")});
  }
  PrintTable({"SUBSCRIPTION", "PRODUCT", "TITLE", "STATUS", "CREATED", "TRIAL ENDS", "ACCESS ENDS"},
             rows);
}

}  // namespace

void RegisterSubscriptionCommands(CLI::App& app, Context& ctx) {
  struct Args {
    std::string product, ref;
    bool yes = false;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("subscribe",
                                 "subscribe to a product, accepting its current offer and EULA");
  sub->add_option("PRODUCT", args->product, "product code or id")->required();
  sub->add_option("--ref", args->ref, "ref tag (where you found the product)");
  sub->add_flag("--yes,-y", args->yes, "do not print the EULA preview");
  sub->callback([&ctx, args] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json terms,
                       c.Call("GET", "/api/v1/subscriptions/terms/" + Segment(args->product)));
      if (!ctx.json && !args->yes) PrintTerms(terms);
      Json body{
          {"Product", args->product}, {"AcceptEula", true}, {"EulaHash", Str(terms, "EulaHash")}};
      if (!args->ref.empty()) body["RefTag"] = args->ref;
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/subscriptions", body));
      ctx.Print(j, PrintSubscription);
      return absl::OkStatus();
    });
  });

  auto product = std::make_shared<std::string>();
  auto* unsub = app.add_subcommand("unsubscribe", "cancel your subscription to a product");
  unsub->add_option("PRODUCT", *product, "product code or id, or subscription id")->required();
  unsub->callback([&ctx, product] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("DELETE", "/api/v1/subscriptions/" + Segment(*product)));
      ctx.Print(j, PrintSubscription);
      return absl::OkStatus();
    });
  });

  app.add_subcommand("subscriptions", "list your subscriptions")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/subscriptions"));
      ctx.Print(j, PrintSubscriptions);
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
