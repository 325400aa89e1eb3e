// `mercato review add|edit|delete|reply|list`.
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

void PrintReview(const Json& r) {
  std::cout << Str(r, "ReviewId") << "  " << std::string(r.value("Rating", 0), '*') << "  "
            << Str(r, "Title") << "  (" << Str(r, "Author") << ", " << Str(r, "UpdatedAt") << ")\n";
  if (!Str(r, "Body").empty()) std::cout << "  " << Str(r, "Body") << "\n";
  if (r.contains("SellerReply")) std::cout << "  seller: " << Str(r["SellerReply"], "Body") << "\n";
}

std::string Base(const std::string& product) {
  return "/api/v1/catalog/products/" + UrlEncode(product) + "/reviews";
}

struct ReviewFlags {
  std::string product, id, title, body;
  int rating = 0;
};

}  // namespace

void RegisterReviewCommands(CLI::App& app, Context& ctx) {
  auto* review = app.add_subcommand("review", "review products you subscribed to");
  review->require_subcommand(1);

  for (bool edit : {false, true}) {
    auto* cmd = review->add_subcommand(
        edit ? "edit" : "add", edit ? "change your review" : "review a product (1-5 stars)");
    auto f = std::make_shared<ReviewFlags>();
    cmd->add_option("PRODUCT", f->product, "product code")->required();
    if (edit) cmd->add_option("REVIEW", f->id, "review id")->required();
    auto* stars = cmd->add_option("--rating", f->rating, "stars, 1 to 5");
    if (!edit) stars->required();
    auto* title = cmd->add_option("--title", f->title, "title");
    auto* body = cmd->add_option("--text", f->body, "review text");
    cmd->callback([&ctx, f, edit, stars, title, body] {
      RunWithClient(ctx, [&](const Client& c) -> absl::Status {
        Json b = Json::object();
        if (stars->count()) b["Rating"] = f->rating;
        if (title->count()) b["Title"] = f->title;
        if (body->count()) b["Body"] = f->body;
        ASSIGN_OR_RETURN(Json j, edit
                                     ? c.Call("PATCH", Base(f->product) + "/" + UrlEncode(f->id), b)
                                     : c.Call("POST", Base(f->product), b));
        ctx.Print(j, PrintReview);
        return absl::OkStatus();
      });
    });
  }

  auto* del = review->add_subcommand("delete", "delete your review");
  auto d = std::make_shared<ReviewFlags>();
  del->add_option("PRODUCT", d->product, "product code")->required();
  del->add_option("REVIEW", d->id, "review id")->required();
  del->callback([&ctx, d] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("DELETE", Base(d->product) + "/" + UrlEncode(d->id)));
      ctx.Print(j, [](const Json& j) { std::cout << "deleted " << Str(j, "Deleted") << "\n"; });
      return absl::OkStatus();
    });
  });

  auto* reply = review->add_subcommand("reply", "reply to a review of your product (once)");
  auto r = std::make_shared<ReviewFlags>();
  reply->add_option("PRODUCT", r->product, "product code")->required();
  reply->add_option("REVIEW", r->id, "review id")->required();
  reply->add_option("--text", r->body, "reply text")->required();
  reply->callback([&ctx, r] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("POST", Base(r->product) + "/" + UrlEncode(r->id) + "/reply",
                                      {{"Body", r->body}}));
      ctx.Print(j, PrintReview);
      return absl::OkStatus();
    });
  });

  auto* list = review->add_subcommand("list", "list a product's reviews");
  auto l = std::make_shared<ReviewFlags>();
  list->add_option("PRODUCT", l->product, "product code")->required();
  list->callback([&ctx, l] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      Json all = {{"Reviews", Json::array()}};
      std::string token;
      for (int guard = 0; guard < 10000; ++guard) {
        std::string target = Base(l->product) + "?max_results=100";
        if (!token.empty()) target += "&next_token=" + UrlEncode(token);
        ASSIGN_OR_RETURN(Json page, c.Call("GET", target));
        for (Json& rv : page["Reviews"]) all["Reviews"].push_back(std::move(rv));
        all["Rating"] = page["Rating"];
        token = Str(page, "NextToken");
        if (token.empty()) break;
      }
      ctx.Print(all, [](const Json& j) {
        std::cout << "Rating: " << Str(j["Rating"], "Average") << " (" << Str(j["Rating"], "Count")
                  << " reviews)\n";
        for (const Json& rv : j["Reviews"]) PrintReview(rv);
      });
      return absl::OkStatus();
    });
  });
}

}  // namespace mercato::cli
