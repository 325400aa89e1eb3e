#include "store/migrations.h"

namespace mercato {

// Times are BIGINT microseconds since the Unix epoch (UTC). Booleans are BIGINT 0/1.
const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "accounts, users, access keys, tokens",
       {
           "CREATE TABLE accounts ("
           " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, is_operator BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL)",
           "CREATE TABLE users ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL,"
           " PRIMARY KEY (account_id, name))",
           "CREATE TABLE access_keys ("
           " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, user_name TEXT NOT NULL,"
           " secret_sealed TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL)",
           "CREATE INDEX access_keys_by_account ON access_keys (account_id)",
           "CREATE TABLE tokens ("
           " token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, user_name TEXT NOT NULL,"
           " description TEXT NOT NULL, created_at BIGINT NOT NULL, revoked BIGINT NOT NULL)",
           "CREATE INDEX tokens_by_account ON tokens (account_id)",
       }},
      {2,
       "S3 buckets, objects and multipart uploads",
       {
           "CREATE TABLE buckets ("
           " name TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL,"
           " created_at BIGINT NOT NULL)",
           "CREATE INDEX buckets_by_account ON buckets (account_id)",
           // segments: JSON array of {"blob": id, "size": n}; an object is their concatenation.
           "CREATE TABLE objects ("
           " bucket TEXT NOT NULL, object_key TEXT NOT NULL, size BIGINT NOT NULL,"
           " etag TEXT NOT NULL, content_type TEXT NOT NULL, metadata TEXT NOT NULL,"
           " segments TEXT NOT NULL, checksum TEXT NOT NULL, last_modified BIGINT NOT NULL,"
           " PRIMARY KEY (bucket, object_key))",
           "CREATE TABLE multipart_uploads ("
           " upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, object_key TEXT NOT NULL,"
           " account_id TEXT NOT NULL, content_type TEXT NOT NULL, metadata TEXT NOT NULL,"
           " checksum_algorithm TEXT NOT NULL, initiated_at BIGINT NOT NULL)",
           "CREATE INDEX multipart_uploads_by_bucket ON multipart_uploads (bucket, object_key)",
           "CREATE TABLE multipart_parts ("
           " upload_id TEXT NOT NULL, part_number BIGINT NOT NULL, blob_id TEXT NOT NULL,"
           " size BIGINT NOT NULL, etag TEXT NOT NULL, checksum TEXT NOT NULL,"
           " last_modified BIGINT NOT NULL, PRIMARY KEY (upload_id, part_number))",
       }},
  };
  return kMigrations;
}

}  // namespace mercato
