#include "cli/usage_commands.h"

#include <cctype>
#include <iostream>
#include <memory>

#include "base/status.h"

namespace mercato::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.contains(key)) return "";
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_null()) return "";
  return j[key].dump();
}

std::string QueryValue(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The last path segment of an ARN ("endpoint/my-ep" → "endpoint/my-ep").
std::string Resource(const std::string& arn) {
  size_t colon = arn.rfind(':');
  return colon == std::string::npos ? arn : arn.substr(colon + 1);
}

void PrintUsage(const Json& j) {
  std::cout << "usage for " << Str(j, "Month") << " (metered through "
            << (Str(j, "MeteredThrough").empty() ? "-" : Str(j, "MeteredThrough"))
            << "; costs are estimates, the invoice is authoritative)\n";
  std::vector<std::vector<std::string>> rows;
  for (const Json& r : j["Rows"]) {
    std::string product = Str(r, "ProductId").empty() ? "-" : Str(r, "ProductId");
    std::string quantity = Str(r, "Quantity") + (Str(r, "Unit") == "Seconds" ? " s" : "");
    rows.push_back({product, Resource(Str(r, "ResourceArn")), Str(r, "Use"),
                    Str(r, "InstanceType").empty() ? "-" : Str(r, "InstanceType"),
                    Str(r, "Pricing"), quantity, Str(r, "SoftwareCost"),
                    Str(r, "InfrastructureCost")});
  }
  PrintTable({"PRODUCT", "RESOURCE", "USE", "INSTANCE TYPE", "PRICING", "QUANTITY", "SOFTWARE USD",
              "INFRASTRUCTURE USD"},
             rows);
  std::cout << "total: software " << Str(j, "SoftwareCost") << " + infrastructure "
            << Str(j, "InfrastructureCost") << " = " << Str(j, "TotalCost") << " USD\n";
}

}  // namespace

void RegisterUsageCommands(CLI::App& app, Context& ctx) {
  auto month = std::make_shared<std::string>();
  auto* usage = app.add_subcommand("usage", "your metered usage and running cost estimate");
  usage->add_option("--month", *month, "UTC month YYYY-MM (default: the current month)");
  usage->callback([&ctx, month] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      std::string target = "/api/v1/usage";
      if (!month->empty()) target += "?month=" + QueryValue(*month);
      ASSIGN_OR_RETURN(Json j, c.Call("GET", target));
      ctx.Print(j, PrintUsage);
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
