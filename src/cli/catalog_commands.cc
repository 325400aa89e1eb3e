// `mercato catalog search|show|notebook|sample-data`.
#include <iostream>
#include <memory>

#include "base/status.h"
#include "cli/image_commands.h"
#include "cli/product_commands.h"
#include "fmt/format.h"

namespace mercato::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

struct SearchFlags {
  std::string q, type, category, pricing, instance_type, sort, max_results, next_token;
  bool free_trial = false;
  bool all = false;
};

void PrintDetail(const Json& p) {
  std::cout << Str(p, "Title") << "  (" << Str(p, "ProductCode") << ", " << Str(p, "ProductType")
            << ")\n"
            << Str(p, "ShortDescription") << "\n\n";
  for (const char* k : {"ProductUrl", "SupportContact", "Free", "FreeTrialDays"}) {
    std::cout << k << ": " << Str(p, k) << "\n";
  }
  std::cout << "Rating: " << Str(p["Rating"], "Average") << " (" << Str(p["Rating"], "Count")
            << " reviews)\n";
  if (p.contains("Offer")) std::cout << "Offer: " << p["Offer"].dump() << "\n";
  if (!Str(p, "LongDescription").empty()) std::cout << "\n" << Str(p, "LongDescription") << "\n";
  if (!Str(p, "UsageInstructions").empty()) {
    std::cout << "\nUsage:\n" << Str(p, "UsageInstructions") << "\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const Json& v : p["Versions"]) {
    rows.push_back({Str(v, "Version"), Str(v, "EscrowedArn"), Str(v, "ReleaseNotes")});
  }
  std::cout << "\n";
  PrintTable({"VERSION", "ARN (use with SageMaker)", "RELEASE NOTES"}, rows);
}

}  // namespace

void RegisterCatalogCommands(CLI::App& app, Context& ctx) {
  auto* catalog = app.add_subcommand("catalog", "find products to subscribe to");
  catalog->require_subcommand(1);

  auto* search = catalog->add_subcommand("search", "search the catalog");
  auto f = std::make_shared<SearchFlags>();
  search->add_option("QUERY", f->q, "words to search for");
  search->add_option("--type", f->type, "model or algorithm");
  search->add_option("--category", f->category, "category");
  search->add_option("--pricing", f->pricing, "free or paid");
  search->add_flag("--free-trial", f->free_trial, "only products with a free trial");
  search->add_option("--instance-type", f->instance_type, "supported instance type");
  search->add_option("--sort", f->sort, "relevance (default), rating or newest");
  search->add_option("--max-results", f->max_results, "page size (1-100)");
  search->add_option("--next-token", f->next_token, "continue from a previous page");
  search->add_flag("--all", f->all, "follow NextToken through every page");
  search->callback([&ctx, f] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      std::string query;
      auto add = [&](const char* k, const std::string& v) {
        if (!v.empty()) query += fmt::format("{}{}={}", query.empty() ? "?" : "&", k, UrlEncode(v));
      };
      add("q", f->q);
      add("type", f->type);
      add("category", f->category);
      add("pricing", f->pricing);
      add("free_trial", f->free_trial ? "true" : "");
      add("instance_type", f->instance_type);
      add("sort", f->sort);
      add("max_results", f->max_results);
      Json all = {{"Products", Json::array()}};
      std::string token = f->next_token;
      for (int guard = 0; guard < 10000; ++guard) {
        std::string target = "/api/v1/catalog/search" + query;
        if (!token.empty()) {
          target += (query.empty() ? "?" : "&") + std::string("next_token=") + UrlEncode(token);
        }
        ASSIGN_OR_RETURN(Json page, c.Call("GET", target));
        for (Json& p : page["Products"]) all["Products"].push_back(std::move(p));
        token = Str(page, "NextToken");
        if (!f->all || token.empty()) break;
      }
      if (!token.empty()) all["NextToken"] = token;
      ctx.Print(all, [](const Json& j) {
        std::vector<std::vector<std::string>> rows;
        for (const Json& p : j["Products"]) {
          rows.push_back({Str(p, "ProductCode"), Str(p, "ProductType"),
                          p.value("Free", true) ? "free" : "paid", Str(p["Rating"], "Average"),
                          Str(p, "Title")});
        }
        PrintTable({"CODE", "TYPE", "PRICING", "RATING", "TITLE"}, rows);
        if (j.contains("NextToken")) std::cout << "NextToken: " << Str(j, "NextToken") << "\n";
      });
      return absl::OkStatus();
    });
  });

  auto* show = catalog->add_subcommand("show", "show a product's page");
  auto code = std::make_shared<std::string>();
  auto ref = std::make_shared<std::string>();
  show->add_option("PRODUCT", *code, "product code")->required();
  show->add_option("--ref", *ref, "ref tag (from a product URL's ?ref=)");
  show->callback([&ctx, code, ref] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      std::string target = "/api/v1/catalog/products/" + UrlEncode(*code);
      if (!ref->empty()) target += "?ref=" + UrlEncode(*ref);
      ASSIGN_OR_RETURN(Json j, c.Call("GET", target));
      ctx.Print(j, PrintDetail);
      return absl::OkStatus();
    });
  });

  for (const char* what : {"notebook", "sample-data"}) {
    auto* cmd = catalog->add_subcommand(
        what, fmt::format("download a product's {}",
                          std::string(what) == "notebook" ? "sample notebook" : "sample data set"));
    auto pc = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("PRODUCT", *pc, "product code")->required();
    cmd->add_option("-o,--output", *out, "file to write")->required();
    std::string kind = what;
    cmd->callback([&ctx, pc, out, kind] {
      RunWithClient(ctx, [&](const Client& c) -> absl::Status {
        RETURN_IF_ERROR(
            c.Download(fmt::format("/api/v1/catalog/products/{}/{}", UrlEncode(*pc), kind), *out));
        std::cout << "wrote " << *out << "\n";
        return absl::OkStatus();
      });
    });
  }
}

}  // namespace mercato::cli
