#include "sandbox/log_files.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/time/time.h"
#include "fmt/format.h"

namespace mercato::sandbox {
namespace {

constexpr size_t kMaxLine = 16 << 10;
constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%E6SZ";

std::string PathOf(const std::string& dir, int generation) {
  if (generation == 0) return fmt::format("{}/{}", dir, kLogFileName);
  return fmt::format("{}/{}.{}", dir, kLogFileName, generation);
}

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The first complete line of a file ("" if none yet).
std::string HeadOf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!std::getline(in, line) || in.eof()) return "";
  return line;
}

bool ParseLine(std::string_view line, LogEvent* ev) {
  size_t a = line.find(' ');
  if (a == std::string_view::npos) return false;
  size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  std::string err;
  if (!absl::ParseTime(kTimeFormat, std::string(line.substr(0, a)), &ev->time, &err)) {
    return false;
  }
  ev->stream = std::string(line.substr(a + 1, b - a - 1));
  ev->message = std::string(line.substr(b + 1));
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogSink>> LogSink::Open(const std::string& dir, LogRotation rotation,
                                                       const Clock& clock) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("create log dir {}: {}", dir, ec.message()));
  std::unique_ptr<LogSink> sink(new LogSink(dir, rotation, clock));
  std::string path = PathOf(dir, 0);
  sink->fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (sink->fd_ < 0) return absl::InternalError(fmt::format("open {}: {}", path, strerror(errno)));
  struct stat st;
  if (fstat(sink->fd_, &st) == 0) sink->size_ = st.st_size;
  return sink;
}

LogSink::~LogSink() { Close(); }

void LogSink::Append(std::string_view stream, std::string_view data) {
  auto it = partial_.find(stream);
  if (it == partial_.end()) it = partial_.emplace(std::string(stream), "").first;
  std::string& buf = it->second;
  buf.append(data);
  size_t start = 0;
  while (true) {
    size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) {
      if (buf.size() - start < kMaxLine) break;
      nl = start + kMaxLine;
      WriteLine(stream, std::string_view(buf).substr(start, kMaxLine));
      start = nl;
      continue;
    }
    WriteLine(stream, std::string_view(buf).substr(start, nl - start));
    start = nl + 1;
  }
  buf.erase(0, start);
}

void LogSink::Close() {
  if (fd_ < 0) return;
  for (auto& [stream, buf] : partial_) {
    if (!buf.empty()) WriteLine(stream, buf);
    buf.clear();
  }
  close(fd_);
  fd_ = -1;
}

std::string LogSink::LastLine(std::string_view stream) const {
  auto it = last_.find(stream);
  return it == last_.end() ? "" : it->second;
}

void LogSink::WriteLine(std::string_view stream, std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  last_[std::string(stream)] = std::string(text);
  if (fd_ < 0) return;
  std::string line = fmt::format(
      "{} {} {}\n", absl::FormatTime(kTimeFormat, clock_.Now(), absl::UTCTimeZone()), stream, text);
  if (size_ > 0 && size_ + static_cast<int64_t>(line.size()) > rotation_.max_bytes) Rotate();
  // One write() per line so followers never see half a line from us.
  if (write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
    size_ += static_cast<int64_t>(line.size());
  }
}

void LogSink::Rotate() {
  close(fd_);
  for (int g = rotation_.keep_files; g >= 1; --g) {
    std::string from = PathOf(dir_, g - 1);
    if (g == rotation_.keep_files) unlink(PathOf(dir_, g).c_str());
    rename(from.c_str(), PathOf(dir_, g).c_str());
  }
  if (rotation_.keep_files <= 0) unlink(PathOf(dir_, 0).c_str());
  fd_ = open(PathOf(dir_, 0).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  size_ = 0;
}

void FileLogReader::Consume(const std::string& path, int64_t from, int64_t* consumed) {
  std::ifstream in(path, std::ios::binary);
  *consumed = from;
  if (!in) return;
  in.seekg(from);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) break;
    LogEvent ev;
    if (ParseLine(std::string_view(data).substr(start, nl - start), &ev)) {
      pending_.push_back(std::move(ev));
    }
    start = nl + 1;
  }
  *consumed = from + static_cast<int64_t>(start);
}

absl::StatusOr<std::vector<LogEvent>> FileLogReader::Read(size_t max_events) {
  const std::string current = PathOf(dir_, 0);
  uint64_t current_inode = InodeOf(current);
  if (current_inode == 0 && inode_ == 0 && !std::filesystem::exists(dir_)) {
    return absl::NotFoundError(fmt::format("no log stream in {}", dir_));
  }
  // ext4 reuses inode numbers at once, so a file is "the one we follow" only if its first
  // line (which starts with a microsecond timestamp) matches too.
  auto is_followed = [&](const std::string& path) {
    return inode_ != 0 && InodeOf(path) == inode_ && (head_.empty() || HeadOf(path) == head_);
  };
  if (!is_followed(current)) {
    // First read: everything rotated, oldest first. Later: finish the file we were in (now
    // rotated) and read all newer ones; if it rotated out of reach, its tail is lost.
    int found = 0;
    for (int g = 1; g <= 64 && !found && inode_ != 0; ++g) {
      if (is_followed(PathOf(dir_, g))) found = g;
    }
    int oldest = inode_ == 0 ? 64 : found;
    for (int g = oldest; g >= 1; --g) {
      if (InodeOf(PathOf(dir_, g)) == 0) continue;
      int64_t ignored;
      Consume(PathOf(dir_, g), g == found ? offset_ : 0, &ignored);
    }
    inode_ = current_inode;
    head_.clear();
    offset_ = 0;
  }
  if (current_inode != 0) {
    Consume(current, offset_, &offset_);
    if (head_.empty()) head_ = HeadOf(current);
  }
  std::vector<LogEvent> out;
  while (!pending_.empty() && out.size() < max_events) {
    out.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  return out;
}

}  // namespace mercato::sandbox
