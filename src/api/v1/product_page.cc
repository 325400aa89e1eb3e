#include "api/v1/product_page.h"

#include <string>
#include <string_view>

#include "fmt/format.h"

namespace mercato::api::v1 {
namespace {

constexpr std::string_view kPrefix = "/console/products/";

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Text(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

http::Response Page(int status, std::string_view title, const std::string& body) {
  return http::Response::Text(
      status,
      fmt::format("<!doctype html><html><head><meta charset=\"utf-8\"><title>{} — Mercato"
                  "</title></head><body>{}</body></html>",
                  Escape(title), body),
      "text/html; charset=utf-8");
}

std::string Pricing(const Json& offer) {
  if (!offer.is_object() || !offer.contains("Pricing") || offer["Pricing"] == "Free") {
    return "<p>Free.</p>";
  }
  std::string out = "<ul>";
  for (const auto& [use, prices] : offer["Pricing"].items()) {
    if (prices.is_string()) {
      out += fmt::format("<li>{}: {} USD</li>", Escape(use), Escape(prices.get<std::string>()));
      continue;
    }
    for (const auto& [type, price] : prices.items()) {
      out += fmt::format("<li>{} on {}: {} USD per hour</li>", Escape(use), Escape(type),
                         Escape(price.is_string() ? price.get<std::string>() : price.dump()));
    }
  }
  out += "</ul>";
  if (int days = offer.value("FreeTrialDays", 0); days > 0) {
    out += fmt::format("<p>Free trial: {} days.</p>", days);
  }
  return out;
}

}  // namespace

std::optional<http::Response> ProductPage(catalog::CatalogService& catalog,
                                          const http::Request& request) {
  std::string_view path = request.path;
  if (path.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string code(path.substr(kPrefix.size()));
  if (code.empty() || code.find('/') != std::string::npos || request.method != "GET") {
    return Page(404, "Not found", "<h1>Not found</h1>");
  }
  std::string ref = request.QueryParam("ref").value_or("");
  absl::StatusOr<Json> detail = catalog.Detail("", code, ref);
  if (!detail.ok()) {
    // Unknown, not public, or a bad ref tag: the visitor learns nothing more.
    int status = absl::IsInvalidArgument(detail.status()) ? 400 : 404;
    return Page(status, "Not found",
                status == 400 ? "<h1>Bad request</h1><p>" +
                                    Escape(std::string(detail.status().message())) + "</p>"
                              : "<h1>Not found</h1><p>No public product has this code.</p>");
  }
  const Json& d = *detail;
  std::string body = fmt::format("<h1>{}</h1><p>{}</p>", Escape(Text(d, "Title")),
                                 Escape(Text(d, "ShortDescription")));
  if (d.contains("Highlights") && d["Highlights"].is_array() && !d["Highlights"].empty()) {
    body += "<ul>";
    for (const Json& h : d["Highlights"]) {
      if (h.is_string()) body += "<li>" + Escape(h.get<std::string>()) + "</li>";
    }
    body += "</ul>";
  }
  // Markdown is shown as written (the console will render it).
  for (const char* key : {"LongDescription", "UsageInstructions", "DataPreprocessing"}) {
    std::string text = Text(d, key);
    if (!text.empty()) body += fmt::format("<h2>{}</h2><pre>{}</pre>", key, Escape(text));
  }
  body += "<h2>Pricing</h2>" + Pricing(d.value("Offer", Json::object()));
  body += "<h2>Versions</h2><ul>";
  for (const Json& v : d.value("Versions", Json::array())) {
    body +=
        fmt::format("<li>{}: {}</li>", Escape(Text(v, "Version")), Escape(Text(v, "ReleaseNotes")));
  }
  body += "</ul>";
  const Json rating = d.value("Rating", Json::object());
  body += fmt::format("<p>Rating: {} ({} reviews)</p>",
                      Escape(rating.value("Average", Json()).dump()), rating.value("Count", 0));
  body += fmt::format("<h2>Use it</h2><pre>mercato subscribe {}</pre><p>Support: {}</p>",
                      Escape(code), Escape(Text(d, "SupportContact")));
  return Page(200, Text(d, "Title"), body);
}

}  // namespace mercato::api::v1
