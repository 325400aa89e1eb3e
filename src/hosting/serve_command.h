// ServeCommand: how an inference container is started, as SageMaker defines it — the image's
// ENTRYPOINT with the argument `serve`, or, without an ENTRYPOINT, a `serve` program found on
// the image's PATH (the instance environment's PATH, else a standard one). Shared by
// endpoints and batch transform. Pure (reads only the unpacked rootfs); thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hosting/image_resolver.h"

namespace mercato::hosting {

struct Command {
  std::string entrypoint;
  std::vector<std::string> args;
};

// FailedPrecondition naming `shown_image` when the image has neither.
absl::StatusOr<Command> ServeCommand(const ResolvedImage& image,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& shown_image);

}  // namespace mercato::hosting
