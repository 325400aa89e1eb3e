// `mercato image push|build|list|describe|tag|delete|scan-report` (`image run` lives in
// image_run_command.cc).
#include "cli/image_commands.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "base/status.h"
#include "cli/context.h"
#include "fmt/format.h"
#include "image/image_builder.h"

namespace mercato::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string HumanBytes(uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.1f} GiB", n / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.1f} MiB", n / double(1ull << 20));
  if (n >= (1ull << 10)) return fmt::format("{:.1f} KiB", n / double(1ull << 10));
  return fmt::format("{} B", n);
}

void PrintPushed(const Json& j) {
  std::cout << "image_uri: " << Str(j, "image_uri") << "\ndigest: " << Str(j, "digest")
            << "\nsize_bytes: " << Str(j, "size_bytes")
            << "\nscan_status: " << Str(j, "scan_status") << "\n";
}

void PrintImages(const Json& j) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : j["images"]) {
    std::string tags;
    for (const auto& t : i.value("tags", Json::array())) {
      tags += (tags.empty() ? "" : ",") + t.get<std::string>();
    }
    std::string digest = Str(i, "digest");
    rows.push_back({Str(i, "repository"), tags, digest.substr(0, 19),
                    HumanBytes(i.value("size_bytes", uint64_t{0})), Str(i, "scan_status"),
                    Str(i, "image_uri")});
  }
  PrintTable({"REPOSITORY", "TAGS", "DIGEST", "SIZE", "SCAN", "IMAGE URI"}, rows);
}

void PrintImage(const Json& j) {
  for (const char* key :
       {"image_uri", "repository", "digest", "format", "size_bytes", "scan_status", "created_at"}) {
    std::cout << key << ": " << Str(j, key) << "\n";
  }
  std::string tags;
  for (const auto& t : j.value("tags", Json::array())) tags += " " + t.get<std::string>();
  std::cout << "tags:" << tags << "\n";
  if (j.contains("config")) std::cout << "config: " << j["config"].dump() << "\n";
  std::cout << "layers: " << j.value("layers", Json::array()).size() << "\n";
}

void PrintScanReport(const Json& j) {
  const Json& r = j.contains("scan_report") ? j["scan_report"] : Json::object();
  std::cout << "image_uri: " << Str(j, "image_uri") << "\nscan_status: " << Str(j, "scan_status")
            << "\n";
  if (r.contains("summary")) std::cout << "summary: " << r["summary"].dump() << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : r.value("findings", Json::array())) {
    rows.push_back(
        {Str(f, "severity"), Str(f, "rule"), Str(f, "path"), Str(f, "layer"), Str(f, "message")});
  }
  if (!rows.empty()) PrintTable({"SEVERITY", "RULE", "PATH", "LAYER", "MESSAGE"}, rows);
}

absl::Status Push(Context& ctx, const Client& c, const std::string& file, const std::string& name) {
  ASSIGN_OR_RETURN(Json j, c.CallWithFile("POST", "/api/v1/images?name=" + UrlEncode(name), file,
                                          "application/x-tar"));
  ctx.Print(j, PrintPushed);
  return absl::OkStatus();
}

// `mercato image build`: an OCI archive from a directory, in a temporary file, then pushed.
absl::Status Build(Context& ctx, const Client& c, const std::string& dir, const std::string& name,
                   const std::string& entrypoint, const std::vector<std::string>& env) {
  if (!std::filesystem::is_directory(dir)) {
    return absl::InvalidArgumentError(fmt::format("{} is not a directory", dir));
  }
  ImageBuildOptions options;
  if (!entrypoint.empty()) options.entrypoint = {entrypoint};
  for (const std::string& kv : env) {
    if (kv.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(fmt::format("--env takes KEY=VALUE, got '{}'", kv));
    }
    options.env.push_back(kv);
  }
  options.ref_name = name;
  std::string tmp = (std::filesystem::temp_directory_path() /
                     fmt::format("mercato-build-{}-{}.tar", ::getpid(), ::time(nullptr)))
                        .string();
  auto built = BuildImageFromDirectory(dir, options, tmp);
  if (!built.ok()) {
    std::remove(tmp.c_str());
    return built.status();
  }
  absl::Status s = Push(ctx, c, tmp, name);
  std::remove(tmp.c_str());
  return s;
}

// Adds a subcommand taking one REF and calling `method target` with it.
void AddRefCommand(CLI::App& image, Context& ctx, const char* name, const char* help,
                   const char* method, const char* path, std::function<void(const Json&)> human) {
  auto* cmd = image.add_subcommand(name, help);
  auto ref = std::make_shared<std::string>();
  cmd->add_option("REF", *ref, "image reference: REPO[:TAG], REPO@sha256:..., or image URI")
      ->required();
  cmd->callback([&ctx, ref, method, path, human] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call(method, std::string(path) + "?ref=" + UrlEncode(*ref)));
      ctx.Print(j, human);
      return absl::OkStatus();
    });
  });
}

}  // namespace

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

void RegisterImageCommands(CLI::App& app, Context& ctx) {
  auto* image = app.add_subcommand("image", "push, build, inspect and run container images");
  image->require_subcommand(1);

  auto* push = image->add_subcommand("push", "push a docker-save or OCI archive");
  auto file = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  push->add_option("FILE", *file, "image archive (.tar, .tar.gz)")
      ->required()
      ->check(CLI::ExistingFile);
  push->add_option("--name", *name, "REPO:TAG")->required();
  push->callback([&ctx, file, name] {
    RunWithClient(ctx, [&](const Client& c) { return Push(ctx, c, *file, *name); });
  });

  auto* build = image->add_subcommand("build", "package a directory as an image and push it");
  auto dir = std::make_shared<std::string>();
  auto build_name = std::make_shared<std::string>();
  auto entrypoint = std::make_shared<std::string>();
  auto env = std::make_shared<std::vector<std::string>>();
  build->add_option("DIR", *dir, "root file system of the image")->required();
  build->add_option("--name", *build_name, "REPO:TAG")->required();
  build->add_option("--entrypoint", *entrypoint, "path of the entrypoint inside the image");
  build->add_option("--env", *env, "KEY=VALUE (repeatable)");
  build->callback([&ctx, dir, build_name, entrypoint, env] {
    RunWithClient(
        ctx, [&](const Client& c) { return Build(ctx, c, *dir, *build_name, *entrypoint, *env); });
  });

  auto* list = image->add_subcommand("list", "list your images");
  auto repository = std::make_shared<std::string>();
  list->add_option("--repository", *repository, "only this repository");
  list->callback([&ctx, repository] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      std::string target = "/api/v1/images";
      if (!repository->empty()) target += "?repository=" + UrlEncode(*repository);
      ASSIGN_OR_RETURN(Json j, c.Call("GET", target));
      ctx.Print(j, PrintImages);
      return absl::OkStatus();
    });
  });

  AddRefCommand(*image, ctx, "describe", "show an image", "GET", "/api/v1/images", PrintImage);
  AddRefCommand(*image, ctx, "scan-report", "show an image's scan findings", "GET",
                "/api/v1/images/scan-report", PrintScanReport);
  AddRefCommand(*image, ctx, "delete", "delete an image tag (or digest)", "DELETE",
                "/api/v1/images",
                [](const Json& j) { std::cout << "deleted " << Str(j, "deleted") << "\n"; });

  auto* tag = image->add_subcommand("tag", "add a tag to an image");
  auto source = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  tag->add_option("REF", *source, "existing image reference")->required();
  tag->add_option("NEW", *target, "new REPO:TAG")->required();
  tag->callback([&ctx, source, target] {
    RunWithClient(ctx, [&](const Client& c) -> absl::Status {
      ASSIGN_OR_RETURN(Json j, c.Call("POST", "/api/v1/images/tags",
                                      {{"source", *source}, {"target", *target}}));
      ctx.Print(j,
                [](const Json& j) { std::cout << "image_uri: " << Str(j, "image_uri") << "\n"; });
      return absl::OkStatus();
    });
  });

  RegisterImageRunCommand(*image, ctx);
}

}  // namespace mercato::cli
