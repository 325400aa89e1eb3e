// Internal to mercato_hosting: SageMaker's List* parameters (NameContains, CreationTime and
// LastModifiedTime Before/After, StatusEquals, SortBy, SortOrder, MaxResults, NextToken)
// applied to an in-memory list. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace mercato::hosting::internal {

struct ListItem {
  std::string name;
  int64_t created = 0;   // micros
  int64_t modified = 0;  // micros
  std::string status;
  Json summary;
};

// {"<key>": [summaries of the page], "NextToken": ...}.
absl::StatusOr<Json> PageOf(std::vector<ListItem> items, const Json& in, std::string_view key,
                            std::string_view default_sort);

}  // namespace mercato::hosting::internal
