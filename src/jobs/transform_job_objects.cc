#include "jobs/transform_job_objects.h"

#include "base/status.h"
#include "fmt/format.h"

namespace mercato::jobs {

absl::StatusOr<std::vector<std::string>> S3TransformObjects::List(std::string_view account,
                                                                  std::string_view bucket,
                                                                  std::string_view prefix) {
  ASSIGN_OR_RETURN(auto infos, objects_.List(account, bucket, prefix));
  std::vector<std::string> keys;
  keys.reserve(infos.size());
  for (auto& i : infos) keys.push_back(std::move(i.key));
  return keys;
}

absl::StatusOr<std::string> S3TransformObjects::Read(std::string_view account,
                                                     std::string_view bucket, std::string_view key,
                                                     uint64_t max_bytes) {
  ASSIGN_OR_RETURN(storage::ObjectReaderPtr reader, objects_.Open(account, bucket, key));
  if (reader->info().size > max_bytes) {
    return absl::ResourceExhaustedError(
        fmt::format("s3://{}/{} is {} bytes, more than the {} bytes a transform job reads", bucket,
                    key, reader->info().size, max_bytes));
  }
  std::string out;
  out.resize(reader->info().size);
  size_t got = 0;
  while (got < out.size()) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(out.data() + got, out.size() - got));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

absl::Status S3TransformObjects::Write(std::string_view account, std::string_view bucket,
                                       std::string_view key, std::string_view content_type,
                                       std::string_view data) {
  return objects_.PutBytes(account, bucket, key, content_type, data).status();
}

}  // namespace mercato::jobs
