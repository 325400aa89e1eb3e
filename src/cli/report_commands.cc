// `mercato seller reports ...`
#include "cli/report_commands.h"

#include <iostream>
#include <memory>

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"
#include "http/message.h"

namespace mercato::cli {
namespace {

struct Args {
  std::string type, date, month, format;
};

absl::Status ListTypes(Context& ctx, const Client& client) {
  ASSIGN_OR_RETURN(Json out, client.Call("GET", "/api/v1/sellers/me/reports"));
  ctx.Print(out, [](const Json& j) {
    std::vector<std::vector<std::string>> rows;
    for (const Json& t : j["DataSetTypes"]) {
      std::string cols;
      for (const Json& c : t["Columns"]) cols += (cols.empty() ? "" : ", ") + c.get<std::string>();
      rows.push_back({t["Name"].get<std::string>(), t["Period"].get<std::string>(), cols});
    }
    PrintTable({"DATA SET", "PERIOD", "COLUMNS"}, rows);
  });
  return absl::OkStatus();
}

absl::Status Show(Context& ctx, const Client& client, const Args& a) {
  if (a.date.empty() == a.month.empty()) {
    return AwsError(absl::StatusCode::kInvalidArgument, "InvalidDate",
                    "give --date YYYY-MM-DD (daily and weekly data sets) or --month YYYY-MM "
                    "(monthly and disbursement data sets)");
  }
  std::string target = "/api/v1/sellers/me/reports/" + http::UriEncode(a.type, false) + "?";
  target += a.date.empty() ? "month=" + http::UriEncode(a.month, false)
                           : "date=" + http::UriEncode(a.date, false);
  std::string format = a.format.empty() ? "json" : a.format;
  target += "&format=" + format;
  ASSIGN_OR_RETURN(HttpResult r, client.Send("GET", target));
  if (r.status < 200 || r.status >= 300) return StatusFromReply(r);
  if (!a.format.empty()) {  // exactly what the server rendered
    std::cout << r.body;
    if (!r.body.empty() && r.body.back() != '\n') std::cout << "\n";
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Json out, ParseJson(r.body));
  ctx.Print(out, [](const Json& j) {
    std::vector<std::string> headers;
    for (const Json& c : j["Columns"]) headers.push_back(c.get<std::string>());
    std::vector<std::vector<std::string>> rows;
    for (const Json& row : j["Rows"]) {
      std::vector<std::string> cells;
      for (const std::string& h : headers) cells.push_back(row.value(h, ""));
      rows.push_back(std::move(cells));
    }
    std::cout << j["DataSetType"].get<std::string>() << " " << j["Period"].get<std::string>()
              << ": " << rows.size() << " row(s)\n";
    if (!rows.empty()) PrintTable(headers, rows);
  });
  return absl::OkStatus();
}

}  // namespace

void RegisterReportCommands(CLI::App& app, Context& ctx) {
  CLI::App* seller = nullptr;
  try {
    seller = app.get_subcommand("seller");
  } catch (const CLI::OptionNotFound&) {
    seller = app.add_subcommand("seller", "seller commands");
    seller->require_subcommand(1);
  }
  auto args = std::make_shared<Args>();
  auto* reports = seller->add_subcommand(
      "reports",
      "business reports (Commerce Analytics data sets) for your products; without DATASET "
      "lists the data set types");
  reports->add_option("dataset", args->type, "data set type, e.g. daily_business_fees");
  reports->add_option("--date", args->date, "the day (daily) or a day of the week (weekly)");
  reports->add_option("--month", args->month, "the month YYYY-MM (monthly, disbursement)");
  reports->add_option("--format", args->format, "print the server's csv or json as is")
      ->check(CLI::IsMember({"csv", "json"}));
  reports->callback([&ctx, args] {
    RunWithClient(ctx, [&ctx, args](const Client& client) {
      if (args->type.empty()) return ListTypes(ctx, client);
      return Show(ctx, client, *args);
    });
  });
}

}  // namespace mercato::cli
