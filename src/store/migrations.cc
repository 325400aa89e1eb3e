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
      {3,
       "S3 blob registry for garbage collection",
       {
           // Every blob the S3 API wrote, stamped at each (re)write; the collector deletes
           // those older than its grace period that no object or part references.
           "CREATE TABLE s3_blobs (blob_id TEXT PRIMARY KEY, written_at BIGINT NOT NULL)",
       }},
      {4,
       "container images and their tags",
       {
           // One row per image manifest in a repository. layers: JSON array of
           // {"digest","diff_id","blob","size","compressed_size","media_type"}, base first;
           // the blobs hold the uncompressed layer tars. scan_status: PASSED, BLOCKED or ERROR.
           "CREATE TABLE images ("
           " account_id TEXT NOT NULL, repository TEXT NOT NULL, digest TEXT NOT NULL,"
           " manifest TEXT NOT NULL, config TEXT NOT NULL, layers TEXT NOT NULL,"
           " size_bytes BIGINT NOT NULL, format TEXT NOT NULL, created_at BIGINT NOT NULL,"
           " scan_status TEXT NOT NULL, scan_report TEXT NOT NULL,"
           " PRIMARY KEY (account_id, repository, digest))",
           "CREATE TABLE image_tags ("
           " account_id TEXT NOT NULL, repository TEXT NOT NULL, tag TEXT NOT NULL,"
           " digest TEXT NOT NULL, updated_at BIGINT NOT NULL,"
           " PRIMARY KEY (account_id, repository, tag))",
           "CREATE INDEX image_tags_by_digest ON image_tags (account_id, repository, digest)",
       }},
      {5,
       "SageMaker hosting: models, endpoint configs, endpoints and their instances",
       {
           // spec columns hold SageMaker-shaped JSON (see src/hosting/hosting_service.h).
           "CREATE TABLE models ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
           " spec TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (account_id, name))",
           "CREATE TABLE endpoint_configs ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
           " spec TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (account_id, name))",
           // spec: the deployment in service; pending_spec: the one an UpdateEndpoint rolls
           // out (NULL otherwise).
           "CREATE TABLE endpoints ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
           " config_name TEXT NOT NULL, status TEXT NOT NULL, failure_reason TEXT NOT NULL,"
           " spec TEXT NOT NULL, pending_spec TEXT, created_at BIGINT NOT NULL,"
           " last_modified BIGINT NOT NULL, PRIMARY KEY (account_id, name))",
           // One row per sandbox instance ever started for an endpoint (metering input).
           "CREATE TABLE endpoint_instances ("
           " instance_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
           " endpoint_name TEXT NOT NULL, variant_name TEXT NOT NULL,"
           " instance_type TEXT NOT NULL, started_at BIGINT NOT NULL, stopped_at BIGINT)",
           "CREATE INDEX endpoint_instances_by_endpoint ON endpoint_instances"
           " (account_id, endpoint_name)",
       }},
      {6,
       "SageMaker batch transform jobs and their instances",
       {
           // request: the CreateTransformJob input as given; model: the model's container
           // (Image, ModelDataUrl, Environment) snapshotted at create time; effective: the
           // batch parameters in force once the container's /execution-parameters were read.
           "CREATE TABLE transform_jobs ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
           " model_name TEXT NOT NULL, status TEXT NOT NULL, failure_reason TEXT NOT NULL,"
           " request TEXT NOT NULL, model TEXT NOT NULL, effective TEXT,"
           " created_at BIGINT NOT NULL, started_at BIGINT, ended_at BIGINT,"
           " last_modified BIGINT NOT NULL, PRIMARY KEY (account_id, name))",
           "CREATE INDEX transform_jobs_by_status ON transform_jobs (status)",
           // One row per sandbox instance a transform job ran (metering input).
           "CREATE TABLE transform_job_instances ("
           " instance_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, job_name TEXT NOT NULL,"
           " instance_type TEXT NOT NULL, started_at BIGINT NOT NULL, stopped_at BIGINT)",
           "CREATE INDEX transform_job_instances_by_job ON transform_job_instances"
           " (account_id, job_name)",
       }},
      {7,
       "SageMaker training jobs and their instances",
       {
           // request: the CreateTrainingJob input as given (DescribeTrainingJob echoes it);
           // transitions: JSON SecondaryStatusTransitions [{"Status","StartTime","EndTime",
           // "StatusMessage"}] (times in epoch micros); final_metrics: JSON
           // [{"MetricName","Value","Timestamp"}]; model_artifacts: the uploaded
           // s3://.../model.tar.gz ("" until then).
           "CREATE TABLE training_jobs ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
           " status TEXT NOT NULL, secondary_status TEXT NOT NULL,"
           " failure_reason TEXT NOT NULL, request TEXT NOT NULL, image TEXT NOT NULL,"
           " transitions TEXT NOT NULL, final_metrics TEXT NOT NULL,"
           " model_artifacts TEXT NOT NULL, created_at BIGINT NOT NULL,"
           " training_start BIGINT, training_end BIGINT, last_modified BIGINT NOT NULL,"
           " PRIMARY KEY (account_id, name))",
           "CREATE INDEX training_jobs_by_status ON training_jobs (status)",
           // One row per sandbox instance a training job ran (metering input).
           "CREATE TABLE training_job_instances ("
           " instance_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, job_name TEXT NOT NULL,"
           " instance_type TEXT NOT NULL, started_at BIGINT NOT NULL, stopped_at BIGINT)",
           "CREATE INDEX training_job_instances_by_job ON training_job_instances"
           " (account_id, job_name)",
       }},
      {8,
       "algorithms, model packages and model package groups",
       {
           // MIGRATION-8 (packages part): statements go here.
       }},
      {9,
       "products, versions, offers and reviews",
       {
           // MIGRATION-9 (products part): statements go here.
       }},
      {10,
       "sellers and notifications",
       {
           // MIGRATION-10 (sellers part): statements go here.
       }},
      {11,
       "subscriptions",
       {
           // MIGRATION-11 (subscriptions part): statements go here.
       }},
  };
  return kMigrations;
}

}  // namespace mercato
