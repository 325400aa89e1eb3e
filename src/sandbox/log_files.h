// An instance's log stream on disk: `<dir>/container.log`, rotated to container.log.1 ..
// container.log.<keep_files> when it passes `max_bytes`. Each line is
//   2026-11-01T12:00:00.123456Z stdout <text>
// LogSink turns raw stdout/stderr bytes into such lines (one sink per instance, fed by one
// thread: not thread-safe). FileLogReader reads them back and follows new lines (one reader
// per caller: not thread-safe); any number of readers may follow one sink.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "sandbox/container_runtime.h"

namespace mercato::sandbox {

inline constexpr char kLogFileName[] = "container.log";

struct LogRotation {
  int64_t max_bytes = 16 << 20;  // per file
  int keep_files = 4;            // rotated files kept besides the current one
};

class LogSink {
 public:
  static absl::StatusOr<std::unique_ptr<LogSink>> Open(const std::string& dir, LogRotation rotation,
                                                       const Clock& clock);
  ~LogSink();  // Close()

  // Appends raw bytes from `stream` ("stdout"/"stderr"); complete lines are written at once,
  // a partial line waits for its end (or Close). Over-long lines are split at 16 KiB.
  void Append(std::string_view stream, std::string_view data);
  void Close();  // writes pending partial lines and closes the file

  // The last complete line seen on `stream` (start failures quote bwrap's stderr).
  std::string LastLine(std::string_view stream) const;

 private:
  LogSink(std::string dir, LogRotation rotation, const Clock& clock)
      : dir_(std::move(dir)), rotation_(rotation), clock_(clock) {}
  void WriteLine(std::string_view stream, std::string_view text);
  void Rotate();

  std::string dir_;
  LogRotation rotation_;
  const Clock& clock_;
  int fd_ = -1;
  int64_t size_ = 0;
  std::map<std::string, std::string, std::less<>> partial_;
  std::map<std::string, std::string, std::less<>> last_;
};

class FileLogReader final : public LogReader {
 public:
  explicit FileLogReader(std::string dir) : dir_(std::move(dir)) {}
  absl::StatusOr<std::vector<LogEvent>> Read(size_t max_events) override;

 private:
  void Consume(const std::string& path, int64_t from, int64_t* consumed);
  std::string dir_;
  uint64_t inode_ = 0;  // file currently followed (0 = nothing read yet)
  std::string head_;    // its first line, once it has one
  int64_t offset_ = 0;  // bytes of complete lines consumed from it
  std::deque<LogEvent> pending_;
};

}  // namespace mercato::sandbox
