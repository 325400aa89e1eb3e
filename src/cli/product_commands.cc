// `mercato product create|update|describe|list|add-version|restrict-version|
// unrestrict-version|publish|limit|remove|set-offer`.
#include "cli/product_commands.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "base/crypto.h"
#include "base/status.h"
#include "cli/image_commands.h"
#include "fmt/format.h"

namespace mercato::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// Listing flags shared by create and update; only the given ones are sent.
struct ListingFlags {
  std::map<std::string, CLI::Option*> opts;
  std::map<std::string, std::string> text;
  std::vector<std::string> categories, highlights, instance_types;
  std::string logo, notebook;
};

std::shared_ptr<ListingFlags> AddListingFlags(CLI::App* cmd) {
  auto f = std::make_shared<ListingFlags>();
  auto text = [&](const char* flag, const char* field, const char* help) {
    f->opts[field] = cmd->add_option(flag, f->text[field], help);
  };
  text("--title", "Title", "product title");
  text("--short-description", "ShortDescription", "one-paragraph summary");
  text("--long-description", "LongDescription", "Markdown description");
  text("--long-description-file", "LongDescription@", "read the Markdown description from FILE");
  text("--usage", "UsageInstructions", "Markdown usage instructions");
  text("--usage-file", "UsageInstructions@", "read the usage instructions from FILE");
  text("--preprocessing", "DataPreprocessing", "data pre-processing requirements (Markdown)");
  text("--preprocessing-file", "DataPreprocessing@", "read them from FILE");
  text("--support", "SupportContact", "support contact (email or URL)");
  text("--eula", "Eula", "EULA text");
  text("--eula-file", "Eula@", "read the EULA from FILE");
  text("--sample-data", "SampleData", "s3://BUCKET/KEY of a sample data set");
  f->opts["Categories"] = cmd->add_option("--category", f->categories, "category (repeatable)");
  f->opts["Highlights"] = cmd->add_option("--highlight", f->highlights, "highlight (repeatable)");
  f->opts["RecommendedInstanceTypes"] = cmd->add_option("--instance-type", f->instance_types,
                                                        "recommended instance type (repeatable)");
  f->opts["Logo"] = cmd->add_option("--logo", f->logo, "logo image file (PNG, JPEG or SVG)");
  f->opts["SampleNotebook"] = cmd->add_option("--notebook", f->notebook, "sample .ipynb file");
  return f;
}

absl::StatusOr<Json> ListingFields(const ListingFlags& f) {
  Json out = Json::object();
  for (const auto& [field, opt] : f.opts) {
    if (opt->count() == 0) continue;
    if (field == "Categories") {
      out[field] = f.categories;
    } else if (field == "Highlights") {
      out[field] = f.highlights;
    } else if (field == "RecommendedInstanceTypes") {
      out[field] = f.instance_types;
    } else if (field == "Logo") {
      ASSIGN_OR_RETURN(std::string data, ReadTextFile(f.logo));
      out[field] = Base64Encode(data);
    } else if (field == "SampleNotebook") {
      ASSIGN_OR_RETURN(out[field], ReadTextFile(f.notebook));
    } else if (field.back() == '@') {
      ASSIGN_OR_RETURN(out[field.substr(0, field.size() - 1)], ReadTextFile(f.text.at(field)));
    } else {
      out[field] = f.text.at(field);
    }
  }
  return out;
}

void PrintProduct(const Json& p) {
  for (const char* k : {"ProductId", "ProductCode", "ProductUrl", "Title", "Visibility",
                        "ProductType", "FreeTrialDays", "Free"}) {
    std::cout << k << ": " << Str(p, k) << "\n";
  }
  if (p.contains("Rating")) {
    std::cout << "Rating: " << Str(p["Rating"], "Average") << " (" << Str(p["Rating"], "Count")
              << " reviews)\n";
  }
  if (p.contains("Versions") && !p["Versions"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const Json& v : p["Versions"]) {
      rows.push_back({Str(v, "Version"), v.value("Restricted", false) ? "restricted" : "",
                      Str(v, "EscrowedArn"), Str(v, "ReleaseNotes")});
    }
    std::cout << "\n";
    PrintTable({"VERSION", "STATE", "ESCROWED ARN", "RELEASE NOTES"}, rows);
  }
}

// A command `mercato product NAME PRODUCT ...` posting `body()` to `path(product)`.
void Simple(CLI::App* product, Context& ctx, const char* name, const char* help,
            const std::string& method, const std::function<std::string(const std::string&)>& path,
            const std::function<absl::StatusOr<Json>()>& body, CLI::App** out = nullptr) {
  auto* cmd = product->add_subcommand(name, help);
  auto id = std::make_shared<std::string>();
  cmd->add_option("PRODUCT", *id, "product id")->required();
  cmd->callback([&ctx, id, method, path, body] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json b, body());
      ASSIGN_OR_RETURN(Json j, c.Call(method, path(UrlEncode(*id)), b));
      ctx.Print(j, PrintProduct);
      return absl::OkStatus();
    });
  });
  if (out) *out = cmd;
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(fmt::format("cannot read {}", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RegisterProductCommands(CLI::App& app, Context& ctx) {
  auto* product = app.add_subcommand("product", "list products in the marketplace (sellers)");
  product->require_subcommand(1);

  auto* create = product->add_subcommand("create", "create a Draft product");
  auto cflags = AddListingFlags(create);
  create->callback([&ctx, cflags] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json fields, ListingFields(*cflags));
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/products", fields));
      ctx.Print(j, PrintProduct);
      return absl::OkStatus();
    });
  });

  auto* update = product->add_subcommand("update", "change a product's listing fields");
  auto uid = std::make_shared<std::string>();
  update->add_option("PRODUCT", *uid, "product id")->required();
  auto uflags = AddListingFlags(update);
  update->callback([&ctx, uid, uflags] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json fields, ListingFields(*uflags));
      ASSIGN_OR_RETURN(Json j, c.Call("PATCH", "/api/v1/products/" + UrlEncode(*uid), fields));
      ctx.Print(j, PrintProduct);
      return absl::OkStatus();
    });
  });

  auto none = []() -> absl::StatusOr<Json> { return Json(nullptr); };
  Simple(
      product, ctx, "describe", "show one of your products", "GET",
      [](const std::string& id) { return "/api/v1/products/" + id; }, none);
  Simple(
      product, ctx, "remove", "remove a product (Restricted; subscribers keep a grace period)",
      "POST", [](const std::string& id) { return "/api/v1/products/" + id + "/remove"; }, none);
  Simple(
      product, ctx, "publish", "make a product Public", "POST",
      [](const std::string& id) { return "/api/v1/products/" + id + "/visibility"; },
      []() -> absl::StatusOr<Json> {
        return Json{{"Visibility", "Public"}};
      });

  auto allow = std::make_shared<std::vector<std::string>>();
  CLI::App* limit = nullptr;
  Simple(
      product, ctx, "limit", "make a product Limited to an allow-list of buyer accounts", "POST",
      [](const std::string& id) { return "/api/v1/products/" + id + "/visibility"; },
      [allow]() -> absl::StatusOr<Json> {
        return Json{{"Visibility", "Limited"}, {"AllowList", *allow}};
      },
      &limit);
  limit->add_option("--allow", *allow, "buyer account id (repeatable)");

  auto offer_file = std::make_shared<std::string>();
  auto prices = std::make_shared<std::map<std::string, std::vector<std::string>>>();
  auto per_inference = std::make_shared<std::string>();
  auto trial = std::make_shared<int>(0);
  auto tests = std::make_shared<std::vector<std::string>>();
  CLI::App* set_offer = nullptr;
  Simple(
      product, ctx, "set-offer", "set prices, free-trial days and test accounts", "PUT",
      [](const std::string& id) { return "/api/v1/products/" + id + "/offer"; },
      [=]() -> absl::StatusOr<Json> {
        if (!offer_file->empty()) {
          ASSIGN_OR_RETURN(std::string text, ReadTextFile(*offer_file));
          return ParseJson(text);
        }
        Json pricing = Json::object();
        for (const auto& [kind, list] : *prices) {
          for (const std::string& kv : list) {
            size_t eq = kv.find('=');
            if (eq == std::string::npos) {
              return absl::InvalidArgumentError(
                  fmt::format("--{}-price takes TYPE=USD, e.g. ml.m5.large=0.50", kind));
            }
            std::string key = kind == "endpoint"    ? "Endpoint"
                              : kind == "transform" ? "Transform"
                                                    : "Training";
            pricing[key][kv.substr(0, eq)] = kv.substr(eq + 1);
          }
        }
        if (!per_inference->empty()) pricing["PerInference"] = *per_inference;
        Json offer = {{"FreeTrialDays", *trial}, {"TestAccounts", *tests}};
        offer["Pricing"] = pricing.empty() ? Json("Free") : pricing;
        return offer;
      },
      &set_offer);
  set_offer->add_option("--file", *offer_file, "the whole offer as a JSON file");
  for (const char* kind : {"endpoint", "transform", "training"}) {
    set_offer->add_option(fmt::format("--{}-price", kind), (*prices)[kind],
                          "TYPE=USD per instance-hour (repeatable)");
  }
  set_offer->add_option("--per-inference", *per_inference, "USD per inference");
  set_offer->add_option("--free-trial-days", *trial, "free-trial days");
  set_offer->add_option("--test-account", *tests, "seller test account id (repeatable)");

  product->add_subcommand("list", "list your products")->callback([&ctx] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("GET", "/api/v1/products"));
      ctx.Print(j, [](const Json& j) {
        std::vector<std::vector<std::string>> rows;
        for (const Json& p : j["Products"]) {
          rows.push_back({Str(p, "ProductId"), Str(p, "ProductCode"), Str(p, "Visibility"),
                          Str(p, "ProductType"), Str(p, "Title")});
        }
        PrintTable({"PRODUCT ID", "CODE", "VISIBILITY", "TYPE", "TITLE"}, rows);
      });
      return absl::OkStatus();
    });
  });

  auto* add = product->add_subcommand("add-version", "escrow a package or algorithm as a version");
  auto aid = std::make_shared<std::string>();
  auto source = std::make_shared<std::string>();
  auto version = std::make_shared<std::string>();
  auto notes = std::make_shared<std::string>();
  auto notes_file = std::make_shared<std::string>();
  add->add_option("PRODUCT", *aid, "product id")->required();
  add->add_option("--source", *source, "model package or algorithm ARN")->required();
  add->add_option("--version", *version, "version label, e.g. 1.1")->required();
  add->add_option("--release-notes", *notes, "release notes");
  add->add_option("--release-notes-file", *notes_file, "read the release notes from FILE");
  add->callback([&ctx, aid, source, version, notes, notes_file] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      std::string text = *notes;
      if (!notes_file->empty()) {
        ASSIGN_OR_RETURN(text, ReadTextFile(*notes_file));
      }
      ASSIGN_OR_RETURN(
          Json j, c.Call("POST", "/api/v1/products/" + UrlEncode(*aid) + "/versions",
                         {{"Source", *source}, {"Version", *version}, {"ReleaseNotes", text}}));
      ctx.Print(j, [](const Json& v) {
        std::cout << "version " << Str(v, "Version") << " escrowed as " << Str(v, "EscrowedArn")
                  << "\n";
      });
      return absl::OkStatus();
    });
  });

  for (bool restrict : {true, false}) {
    auto* cmd = product->add_subcommand(
        restrict ? "restrict-version" : "unrestrict-version",
        restrict ? "hide a version from new buyers" : "show a restricted version again");
    auto id = std::make_shared<std::string>();
    auto v = std::make_shared<std::string>();
    cmd->add_option("PRODUCT", *id, "product id")->required();
    cmd->add_option("VERSION", *v, "version label")->required();
    cmd->callback([&ctx, id, v, restrict] {
      RunWithClient(ctx, [&](const Client& c) -> absl::Status {
        ASSIGN_OR_RETURN(Json j, c.Call("POST", fmt::format("/api/v1/products/{}/versions/{}/{}",
                                                            UrlEncode(*id), UrlEncode(*v),
                                                            restrict ? "restrict" : "unrestrict")));
        ctx.Print(j, [](const Json& r) {
          std::cout << "version " << Str(r, "Version")
                    << (r.value("Restricted", false) ? " restricted\n" : " unrestricted\n");
        });
        return absl::OkStatus();
      });
    });
  }
  RegisterCatalogCommands(app, ctx);
  RegisterReviewCommands(app, ctx);
}

}  // namespace mercato::cli
