#include "cli/context.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/common/errors.h"
#include "fmt/format.h"

namespace mercato::cli {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

void Context::ResolveSettings() {
  if (endpoint.empty()) endpoint = Env("MERCATO_ENDPOINT");
  if (token.empty()) token = Env("MERCATO_TOKEN");
  if (profile_path.empty()) {
    std::string home = Env("HOME");
    profile_path = (home.empty() ? std::string(".") : home) + "/.mercato/config";
  }
  std::ifstream in(profile_path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = Json::parse(ss.str(), nullptr, false);
    if (j.is_object()) {
      if (endpoint.empty()) endpoint = j.value("endpoint", "");
      if (token.empty()) token = j.value("token", "");
    }
  }
  if (endpoint.empty()) endpoint = "http://127.0.0.1:8600";
}

absl::Status Context::SaveProfile() const {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(profile_path).parent_path(), ec);
  std::ofstream out(profile_path);
  out << Json{{"endpoint", endpoint}, {"token", token}}.dump(2) << "\n";
  out.close();
  if (!out) return absl::InternalError("cannot write " + profile_path);
  std::filesystem::permissions(
      profile_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  return absl::OkStatus();
}

absl::StatusOr<Client> Context::MakeClient() const {
  Context resolved = *this;
  resolved.ResolveSettings();
  return Client::Create(resolved.endpoint, resolved.token);
}

void Context::Print(const Json& value, const std::function<void(const Json&)>& human) const {
  if (json) {
    std::cout << value.dump(2) << "\n";
  } else {
    human(value);
  }
}

void Context::Fail(const absl::Status& status) {
  std::string code = api::ErrorCodeFor(status);
  std::cerr << "error: " << code << ": " << status.message() << "\n";
  exit_code =
      status.code() == absl::StatusCode::kUnavailable ||
              status.code() == absl::StatusCode::kInvalidArgument && code == "InvalidArgument"
          ? kExitUsage
          : kExitApiError;
}

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      out += i + 1 < widths.size() ? fmt::format("{:<{}}  ", cell, widths[i]) : cell;
    }
    std::cout << out << "\n";
  };
  line(headers);
  for (const auto& row : rows) line(row);
}

void RunWithClient(Context& ctx, const std::function<absl::Status(const Client&)>& fn) {
  auto client = ctx.MakeClient();
  if (!client.ok()) return ctx.Fail(client.status());
  absl::Status s = fn(*client);
  if (!s.ok()) ctx.Fail(s);
}

}  // namespace mercato::cli
