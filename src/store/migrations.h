// The schema, as an ordered list of migrations written in the portable SQL subset of
// metadata_store.h. Append-only: a released migration is never edited; a new version
// is added at the end. Every backend applies the missing ones at start, each in one
// transaction, and records it in `schema_migrations`.
#pragma once

#include <string>
#include <vector>

namespace mercato {

struct Migration {
  int version;
  std::string name;
  std::vector<std::string> statements;
};

const std::vector<Migration>& AllMigrations();

}  // namespace mercato
