#include "jobs/run_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "fmt/format.h"

namespace mercato::jobs {
namespace fs = std::filesystem;
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// "./a/b" → "a/b"; "" for the root itself; nullopt for absolute or ".." paths.
std::optional<std::string> CleanMemberPath(std::string_view p) {
  if (!p.empty() && p.front() == '/') return std::nullopt;
  std::string out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(start, end - start);
    if (part == "..") return std::nullopt;
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

absl::Status WriteFileFrom(archive* a, const std::string& path, mode_t mode, uint64_t* total,
                           uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(fmt::format("cannot create {}", path));
  char buf[64 * 1024];
  absl::Status status;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      status = absl::InvalidArgumentError(
          fmt::format("archive is malformed: {}", archive_error_string(a)));
      break;
    }
    *total += static_cast<uint64_t>(n);
    if (*total > max_bytes) {
      status = absl::InvalidArgumentError(
          fmt::format("archive expands to more than the limit of {} bytes", max_bytes));
      break;
    }
    if (::write(fd, buf, n) != n) {
      status = absl::InternalError(fmt::format("cannot write {}", path));
      break;
    }
  }
  ::close(fd);
  return status;
}

}  // namespace

absl::Status ExtractArchive(const std::string& archive_path, const std::string& dest_dir,
                            uint64_t max_bytes) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        fmt::format("upload is not a tar archive: {}", archive_error_string(a.get())));
  }
  uint64_t total = 0;
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return absl::InvalidArgumentError(
          fmt::format("upload is not a valid tar archive: {}", archive_error_string(a.get())));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    std::optional<std::string> clean = CleanMemberPath(name);
    if (!clean) {
      return absl::InvalidArgumentError(
          fmt::format("archive member '{}' is absolute or climbs out with '..'", name));
    }
    if (clean->empty()) continue;
    std::string target = dest_dir + "/" + *clean;
    std::error_code ec;
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      fs::create_directories(target, ec);
      if (ec)
        return absl::InvalidArgumentError(
            fmt::format("cannot create {}: {}", *clean, ec.message()));
    } else if (type == AE_IFREG && archive_entry_hardlink(entry) == nullptr) {
      fs::create_directories(fs::path(target).parent_path(), ec);
      if (ec)
        return absl::InvalidArgumentError(
            fmt::format("cannot create {}: {}", *clean, ec.message()));
      mode_t mode = (archive_entry_perm(entry) & 0777) | 0600;
      absl::Status s = WriteFileFrom(a.get(), target, mode, &total, max_bytes);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status PackDirectory(const std::string& dir, const std::string& out_path) {
  std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), out_path.c_str()) != ARCHIVE_OK) {
    return absl::InternalError(fmt::format("cannot create {}", out_path));
  }
  std::error_code ec;
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) return absl::InternalError(fmt::format("cannot list {}: {}", dir, ec.message()));
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), fs::relative(p, dir).c_str());
    archive_entry_set_perm(e.get(), st.st_mode & 0777);
    archive_entry_set_mtime(e.get(), st.st_mtime, 0);
    if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_symlink(e.get(), fs::read_symlink(p, ec).c_str());
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_size(e.get(), st.st_size);
    } else {
      continue;
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      return absl::InternalError(
          fmt::format("cannot pack {}: {}", p.string(), archive_error_string(a.get())));
    }
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(p, std::ios::binary);
      char buf[64 * 1024];
      while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
        if (archive_write_data(a.get(), buf, in.gcount()) < 0) {
          return absl::InternalError(fmt::format("cannot pack {}", p.string()));
        }
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return absl::InternalError(fmt::format("cannot finish {}", out_path));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> StringifyHyperparameters(const Json& hyperparameters) {
  Json out = Json::object();
  if (hyperparameters.is_null()) return out;
  if (!hyperparameters.is_object()) {
    return absl::InvalidArgumentError("hyperparameters must be a JSON object");
  }
  for (const auto& [key, value] : hyperparameters.items()) {
    out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

absl::Status WriteTrainingConfig(const std::string& config_dir, const Json& hyperparameters,
                                 const std::vector<std::string>& channels,
                                 const std::string& instance_type) {
  Json data_config = Json::object();
  for (const std::string& c : channels) {
    data_config[c] = {{"TrainingInputMode", "File"},
                      {"S3DistributionType", "FullyReplicated"},
                      {"RecordWrapperType", "None"}};
  }
  Json resource = {{"current_host", "algo-1"},
                   {"current_instance_type", instance_type},
                   {"hosts", Json::array({"algo-1"})},
                   {"network_interface_name", "lo"}};
  const std::pair<const char*, const Json*> files[] = {{"hyperparameters.json", &hyperparameters},
                                                       {"resourceconfig.json", &resource},
                                                       {"inputdataconfig.json", &data_config}};
  for (const auto& [name, json] : files) {
    std::ofstream out(config_dir + "/" + name, std::ios::trunc);
    out << json->dump(2) << "\n";
    out.close();
    if (!out) return absl::InternalError(fmt::format("cannot write {}/{}", config_dir, name));
  }
  return absl::OkStatus();
}

bool IsValidChannelName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace mercato::jobs
