// PackageStore: the rows behind algorithms, model packages and model package groups (tables
// catalog_packages and model_package_groups, store/migrations.cc v8). It knows nothing of
// SageMaker's rules: PackageService validates requests, PackageValidator advances statuses
// and PackageEscrow copies records through it.
//
// A package's `spec` is the stored Create input (SageMaker JSON) plus internal keys that
// start with "_" (never shown to callers); `details` is its *StatusDetails JSON and
// `validation` the validator's progress (validation_runner.h).
//
// Thread-safe (the MetadataStore is); borrows the store, which must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"
#include "store/metadata_store.h"

namespace mercato::catalog {

inline constexpr char kAlgorithmKind[] = "algorithm";
inline constexpr char kModelPackageKind[] = "model-package";

// Package statuses (SageMaker's AlgorithmStatus / ModelPackageStatus).
inline constexpr char kPending[] = "Pending";
inline constexpr char kInProgress[] = "InProgress";
inline constexpr char kCompleted[] = "Completed";
inline constexpr char kFailed[] = "Failed";
inline constexpr char kDeleting[] = "Deleting";

struct PackageRecord {
  std::string account_id;
  std::string kind;  // kAlgorithmKind | kModelPackageKind
  std::string name;  // AlgorithmName / ModelPackageName, or "GROUP/N" when versioned
  std::string arn;
  std::string group_name;  // "" unless versioned
  int64_t version = 0;     // 0 unless versioned
  std::string status;
  Json spec = Json::object();
  Json details = Json::object();
  Json validation = Json::object();
  int64_t created_at = 0;  // micros
  int64_t last_modified = 0;
};

struct GroupRecord {
  std::string account_id;
  std::string name;
  std::string arn;
  std::string description;
  int64_t next_version = 1;
  int64_t created_at = 0;
};

class PackageStore {
 public:
  explicit PackageStore(MetadataStore& store) : store_(store) {}

  // AlreadyExists when the key or the ARN is taken.
  absl::Status Insert(const PackageRecord& r);
  absl::StatusOr<std::optional<PackageRecord>> Get(std::string_view account, std::string_view kind,
                                                   std::string_view name);
  absl::StatusOr<std::optional<PackageRecord>> GetByArn(std::string_view arn);
  // An account's packages of one kind (of one group when `group` is non-empty).
  absl::StatusOr<std::vector<PackageRecord>> List(std::string_view account, std::string_view kind,
                                                  std::string_view group = "");
  // Packages whose status is one of Pending, InProgress, Deleting (the validator's work).
  absl::StatusOr<std::vector<PackageRecord>> Unsettled();
  // Writes status, details, validation, spec and last_modified of the row with r.arn.
  absl::Status Update(const PackageRecord& r);
  // The same, only if the row's status is still `expected`; false when it was not (the row
  // changed or went away meanwhile).
  absl::StatusOr<bool> UpdateIf(const PackageRecord& r, std::string_view expected);
  absl::Status Delete(std::string_view arn);

  absl::Status InsertGroup(const GroupRecord& g);
  absl::StatusOr<std::optional<GroupRecord>> GetGroup(std::string_view account,
                                                      std::string_view name);
  absl::StatusOr<std::vector<GroupRecord>> ListGroups(std::string_view account);
  absl::Status DeleteGroup(std::string_view account, std::string_view name);
  // Reserves the next version number of a group (NotFound if the group does not exist).
  absl::StatusOr<int64_t> NextVersion(std::string_view account, std::string_view group);

 private:
  MetadataStore& store_;
};

}  // namespace mercato::catalog
