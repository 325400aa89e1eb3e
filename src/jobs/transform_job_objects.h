// S3TransformObjects: the server's TransformObjects (transform_job_runner.h) over Mercato's own
// S3 objects (storage::ObjectStore), so transform jobs read and write exactly what boto3 and
// `aws s3` see. Thread-safe; borrows the ObjectStore.
#pragma once

#include "jobs/transform_job_runner.h"
#include "storage/object_store.h"

namespace mercato::jobs {

class S3TransformObjects final : public TransformObjects {
 public:
  explicit S3TransformObjects(storage::ObjectStore& objects) : objects_(objects) {}
  absl::StatusOr<std::vector<std::string>> List(std::string_view account, std::string_view bucket,
                                                std::string_view prefix) override;
  absl::StatusOr<std::string> Read(std::string_view account, std::string_view bucket,
                                   std::string_view key, uint64_t max_bytes) override;
  absl::Status Write(std::string_view account, std::string_view bucket, std::string_view key,
                     std::string_view content_type, std::string_view data) override;

 private:
  storage::ObjectStore& objects_;
};

}  // namespace mercato::jobs
