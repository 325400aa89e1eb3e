// Files of an image run: extracting uploaded archives (model data, input channels) into a
// run directory and packing /opt/ml/model back into model.tar.gz, plus the SageMaker
// training config files. Pure functions over the file system (libarchive); thread-safe for
// distinct directories.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/json.h"

namespace mercato::jobs {

// Extracts the tar (plain, gzip, bzip2, xz or zstd) at `archive_path` into the existing
// directory `dest_dir`. Only directories and regular files are created (setuid/setgid bits
// dropped); links, devices and FIFOs are skipped. InvalidArgument for a member that is
// absolute or has a ".." component, a malformed archive, or more than `max_bytes` of file
// content. On error `dest_dir` may hold a partial tree.
absl::Status ExtractArchive(const std::string& archive_path, const std::string& dest_dir,
                            uint64_t max_bytes);

// Writes every directory, regular file and symlink under `dir` (paths relative to it) as
// a gzip-compressed pax tar to `out_path`.
absl::Status PackDirectory(const std::string& dir, const std::string& out_path);

// hyperparameters.json content: every value as a string (non-strings in their JSON form).
// InvalidArgument unless `hyperparameters` is an object (or null).
absl::StatusOr<Json> StringifyHyperparameters(const Json& hyperparameters);

// Writes hyperparameters.json, resourceconfig.json (current_host algo-1, hosts [algo-1])
// and inputdataconfig.json (one entry per channel) into `config_dir`.
absl::Status WriteTrainingConfig(const std::string& config_dir, const Json& hyperparameters,
                                 const std::vector<std::string>& channels,
                                 const std::string& instance_type);

// True for SageMaker channel names: [A-Za-z0-9.\-_]{1,64}.
bool IsValidChannelName(std::string_view name);

}  // namespace mercato::jobs
