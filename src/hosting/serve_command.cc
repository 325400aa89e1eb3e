#include "hosting/serve_command.h"

#include <filesystem>

#include "fmt/format.h"

namespace mercato::hosting {
namespace {

std::vector<std::string> PathDirs(const std::map<std::string, std::string>& env) {
  auto it = env.find("PATH");
  std::string path =
      it != env.end() ? it->second : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

absl::StatusOr<Command> ServeCommand(const ResolvedImage& image,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& shown_image) {
  Command out;
  if (!image.entrypoint.empty()) {
    out.entrypoint = image.entrypoint[0];
    out.args.assign(image.entrypoint.begin() + 1, image.entrypoint.end());
    out.args.push_back("serve");
    return out;
  }
  for (const std::string& dir : PathDirs(env)) {
    std::error_code ec;
    if (std::filesystem::exists(image.rootfs + "/" + dir + "/serve", ec)) {
      out.entrypoint = dir + "/serve";
      return out;
    }
  }
  return absl::FailedPreconditionError(fmt::format(
      "Image {} has neither an ENTRYPOINT nor a 'serve' program on its PATH", shown_image));
}

}  // namespace mercato::hosting
