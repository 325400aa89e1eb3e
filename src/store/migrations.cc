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
           // kind: "algorithm" | "model-package"; name: the AlgorithmName / ModelPackageName,
           // "GROUP/N" for a versioned package (group_name GROUP, version N; else "" and 0).
           // spec: the Create input as stored (SageMaker JSON); details: the
           // *StatusDetails JSON; validation: the validation runner's progress
           // {"profiles": [{"Name","Stage","Status","FailureReason",...}]}.
           "CREATE TABLE catalog_packages ("
           " account_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
           " arn TEXT NOT NULL UNIQUE, group_name TEXT NOT NULL, version BIGINT NOT NULL,"
           " status TEXT NOT NULL, spec TEXT NOT NULL, details TEXT NOT NULL,"
           " validation TEXT NOT NULL, created_at BIGINT NOT NULL,"
           " last_modified BIGINT NOT NULL, PRIMARY KEY (account_id, kind, name))",
           "CREATE INDEX catalog_packages_by_status ON catalog_packages (status)",
           // next_version: the version the next package created in the group gets.
           "CREATE TABLE model_package_groups ("
           " account_id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL UNIQUE,"
           " description TEXT NOT NULL, next_version BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL, PRIMARY KEY (account_id, name))",
       }},
      {9,
       "products, versions, offers and reviews",
       {
           // MIGRATION-9 (products part): statements go here.
           // One row per listing. categories/highlights/instance_types/allow_list/
           // test_accounts: JSON arrays; sample_data: JSON {"Source","Bucket","Key","Size"}
           // of the escrowed copy ("{}" when none); offer: the validated offer JSON.
           // kind is "" until the first version fixes it. Ratings are exact: sum and count.
           "CREATE TABLE products ("
           " id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, seller_account TEXT NOT NULL,"
           " title TEXT NOT NULL, short_description TEXT NOT NULL,"
           " long_description TEXT NOT NULL, usage_instructions TEXT NOT NULL,"
           " preprocessing TEXT NOT NULL, categories TEXT NOT NULL, highlights TEXT NOT NULL,"
           " support_contact TEXT NOT NULL, eula TEXT NOT NULL, logo_blob TEXT NOT NULL,"
           " logo_type TEXT NOT NULL, notebook_blob TEXT NOT NULL, sample_data TEXT NOT NULL,"
           " instance_types TEXT NOT NULL, visibility TEXT NOT NULL, kind TEXT NOT NULL,"
           " offer TEXT NOT NULL, is_free BIGINT NOT NULL, free_trial_days BIGINT NOT NULL,"
           " allow_list TEXT NOT NULL, test_accounts TEXT NOT NULL,"
           " rating_sum BIGINT NOT NULL, rating_count BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
           " published_at BIGINT NOT NULL, removed_at BIGINT NOT NULL)",
           "CREATE INDEX products_by_seller ON products (seller_account, created_at)",
           "CREATE INDEX products_by_visibility ON products (visibility, published_at)",
           // Search filters: lower-cased categories and supported instance types.
           "CREATE TABLE product_categories ("
           " product_id TEXT NOT NULL, category TEXT NOT NULL, PRIMARY KEY (product_id, category))",
           "CREATE INDEX product_categories_by_category ON product_categories (category, "
           "product_id)",
           "CREATE TABLE product_instance_types ("
           " product_id TEXT NOT NULL, instance_type TEXT NOT NULL,"
           " PRIMARY KEY (product_id, instance_type))",
           "CREATE INDEX product_instance_types_by_type ON product_instance_types"
           " (instance_type, product_id)",
           // Who may see a Limited product: its allow-list and the seller's test accounts.
           "CREATE TABLE product_access ("
           " product_id TEXT NOT NULL, account_id TEXT NOT NULL, PRIMARY KEY (product_id, "
           "account_id))",
           // Escrowed versions. image_digests/model_data_digests: JSON arrays; spec: the
           // escrowed Describe output (never shown to buyers whole).
           "CREATE TABLE product_versions ("
           " product_id TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL,"
           " source_arn TEXT NOT NULL, escrowed_arn TEXT NOT NULL, release_notes TEXT NOT NULL,"
           " image_digests TEXT NOT NULL, model_data_digests TEXT NOT NULL, spec TEXT NOT NULL,"
           " restricted BIGINT NOT NULL, restricted_at BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL, PRIMARY KEY (product_id, version))",
           "CREATE UNIQUE INDEX product_versions_by_arn ON product_versions (escrowed_arn)",
           // Catalog detail views with ?ref=TAG (commerce reports read them).
           "CREATE TABLE product_visits ("
           " id TEXT PRIMARY KEY, product_id TEXT NOT NULL, ref_tag TEXT NOT NULL,"
           " visitor_account TEXT NOT NULL, visited_at BIGINT NOT NULL)",
           "CREATE INDEX product_visits_by_product ON product_visits (product_id, visited_at)",
           "CREATE TABLE product_reviews ("
           " id TEXT PRIMARY KEY, product_id TEXT NOT NULL, author_account TEXT NOT NULL,"
           " rating BIGINT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
           " reply TEXT NOT NULL, replied_at BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
           "CREATE UNIQUE INDEX product_reviews_by_author ON product_reviews"
           " (product_id, author_account)",
           "CREATE INDEX product_reviews_by_product ON product_reviews (product_id, created_at)",
       }},
      {10,
       "sellers and notifications",
       {
           // MIGRATION-10 (sellers part): statements go here.
           // payout_sealed: base64 of AeadSeal(master key, {"BankAccount","BankRouting"},
           // aad "seller-payout:" + account); only the masks are kept in clear.
           "CREATE TABLE sellers ("
           " account_id TEXT PRIMARY KEY, legal_name TEXT NOT NULL, email TEXT NOT NULL,"
           " country TEXT NOT NULL, state TEXT NOT NULL, payout_sealed TEXT NOT NULL,"
           " bank_account_mask TEXT NOT NULL, bank_routing_mask TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
           // data: JSON object; is_read: 0/1.
           "CREATE TABLE notifications ("
           " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, type TEXT NOT NULL,"
           " subject TEXT NOT NULL, message TEXT NOT NULL, data TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, is_read BIGINT NOT NULL)",
           "CREATE INDEX notifications_by_account ON notifications (account_id, created_at)",
           "CREATE TABLE notification_webhooks ("
           " account_id TEXT PRIMARY KEY, url TEXT NOT NULL, updated_at BIGINT NOT NULL)",
           // The durable outbox: one row per notification to post to a webhook.
           // status: Pending | Delivered | Failed.
           "CREATE TABLE webhook_outbox ("
           " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, url TEXT NOT NULL,"
           " payload TEXT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL,"
           " next_attempt_at BIGINT NOT NULL, last_error TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
           "CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at)",
       }},
      {11,
       "subscriptions",
       {
           // MIGRATION-11 (subscriptions part): statements go here.
           // status: Active | Cancelled | Expired. offer: the product's offer JSON when
           // subscribed. grace_ends_at: 0, or when access ends after the product's removal.
           // reminder_sent / expiry_notified / use_stopped: the sweeper's done-flags (0/1),
           // so each step happens once across restarts.
           "CREATE TABLE subscriptions ("
           " id TEXT PRIMARY KEY, account_id TEXT NOT NULL, product_id TEXT NOT NULL,"
           " product_code TEXT NOT NULL, title TEXT NOT NULL, seller_account TEXT NOT NULL,"
           " status TEXT NOT NULL, offer TEXT NOT NULL, eula_hash TEXT NOT NULL,"
           " ref_tag TEXT NOT NULL, trial_start BIGINT NOT NULL, trial_end BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL, cancelled_at BIGINT NOT NULL,"
           " grace_ends_at BIGINT NOT NULL, expired_at BIGINT NOT NULL,"
           " reminder_sent BIGINT NOT NULL, expiry_notified BIGINT NOT NULL,"
           " use_stopped BIGINT NOT NULL, stop_attempts BIGINT NOT NULL)",
           "CREATE INDEX subscriptions_by_account ON subscriptions (account_id, product_id)",
           "CREATE INDEX subscriptions_by_product ON subscriptions (product_id, status)",
           "CREATE INDEX subscriptions_by_grace ON subscriptions (grace_ends_at)",
       }},
      {12,
       "marketplace products and resource ARNs of running instances",
       {
           // product_ids: JSON array of the marketplace products an instance runs ('[]' for
           // the account's own images); resource_arn: the endpoint or job it serves.
           "ALTER TABLE endpoint_instances ADD COLUMN product_ids TEXT NOT NULL DEFAULT '[]'",
           "ALTER TABLE endpoint_instances ADD COLUMN resource_arn TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE transform_job_instances ADD COLUMN product_ids TEXT NOT NULL DEFAULT '[]'",
           "ALTER TABLE transform_job_instances ADD COLUMN resource_arn TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE training_job_instances ADD COLUMN product_ids TEXT NOT NULL DEFAULT '[]'",
           "ALTER TABLE training_job_instances ADD COLUMN resource_arn TEXT NOT NULL DEFAULT ''",
       }},
      {13,
       "usage records (metering)",
       {
           // MIGRATION-13 (metering part): statements go here.
           // quantity: instance-MICROseconds (Endpoint|Transform|Training) or inference
           // units (Inference) in the UTC hour starting at `hour` (micros). Ids are '' for
           // use that is not a marketplace product's (see commerce/meter.h).
           "CREATE TABLE usage_records ("
           " buyer_account TEXT NOT NULL, subscription_id TEXT NOT NULL,"
           " product_id TEXT NOT NULL, seller_account TEXT NOT NULL,"
           " resource_arn TEXT NOT NULL, use TEXT NOT NULL, instance_type TEXT NOT NULL,"
           " hour BIGINT NOT NULL, quantity BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
           " PRIMARY KEY (buyer_account, subscription_id, resource_arn, use, instance_type,"
           " hour))",
           "CREATE INDEX usage_records_by_hour ON usage_records (hour)",
           "CREATE INDEX usage_records_by_seller ON usage_records (seller_account, hour)",
           // How far each instance row is metered (source: its table); committed with the
           // usage it produced, so a crash never counts twice.
           "CREATE TABLE meter_cursors ("
           " source TEXT NOT NULL, instance_id TEXT NOT NULL, metered_until BIGINT NOT NULL,"
           " PRIMARY KEY (source, instance_id))",
           // name 'metered_through': the clock instant of the last committed metering tick.
           "CREATE TABLE meter_state (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
       }},
      {14,
       "prices, invoices, adjustments and disbursements (billing)",
       {
           // MIGRATION-14 (billing part): statements go here.
           // Money is BIGINT micro-USD, rates BIGINT parts per million, times BIGINT micros.
           // kind: Invoice | Adjustment; an Adjustment refers_to its invoice, with negative
           // amounts. Issued documents are never updated.
           "CREATE TABLE invoices ("
           " id TEXT PRIMARY KEY, buyer_account TEXT NOT NULL, month TEXT NOT NULL,"
           " kind TEXT NOT NULL, refers_to TEXT NOT NULL, reason TEXT NOT NULL,"
           " issued_at BIGINT NOT NULL, software_subtotal BIGINT NOT NULL,"
           " infrastructure_subtotal BIGINT NOT NULL, tax BIGINT NOT NULL, total BIGINT NOT NULL,"
           " tax_country TEXT NOT NULL, tax_state TEXT NOT NULL, tax_rate_ppm BIGINT NOT NULL)",
           "CREATE INDEX invoices_by_buyer ON invoices (buyer_account, month)",
           "CREATE INDEX invoices_by_month ON invoices (month, kind)",
           "CREATE INDEX invoices_by_refers_to ON invoices (refers_to)",
           // kind: Software | Infrastructure; pricing: Paid | FreeTrial | TestAccount | Free;
           // unit: Seconds (unit_price per hour) | Inferences (per inference).
           "CREATE TABLE invoice_lines ("
           " invoice_id TEXT NOT NULL, line_no BIGINT NOT NULL, kind TEXT NOT NULL,"
           " product_id TEXT NOT NULL, seller_account TEXT NOT NULL,"
           " subscription_id TEXT NOT NULL, use TEXT NOT NULL, instance_type TEXT NOT NULL,"
           " pricing TEXT NOT NULL, quantity BIGINT NOT NULL, unit TEXT NOT NULL,"
           " unit_price BIGINT NOT NULL, amount BIGINT NOT NULL,"
           " PRIMARY KEY (invoice_id, line_no))",
           "CREATE INDEX invoice_lines_by_seller ON invoice_lines (seller_account, invoice_id)",
           "CREATE TABLE disbursements ("
           " id TEXT PRIMARY KEY, seller_account TEXT NOT NULL, month TEXT NOT NULL,"
           " software_revenue BIGINT NOT NULL, listing_fee BIGINT NOT NULL,"
           " refunds BIGINT NOT NULL, tax_collected BIGINT NOT NULL, amount BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL, UNIQUE (seller_account, month))",
           // The operator's infrastructure price list (use: Endpoint | Transform | Training);
           // the metering part reads it for running cost estimates.
           "CREATE TABLE infrastructure_prices ("
           " instance_type TEXT NOT NULL, use TEXT NOT NULL, micros_per_hour BIGINT NOT NULL,"
           " updated_at BIGINT NOT NULL, PRIMARY KEY (instance_type, use))",
           // Sales and use tax by country and state (rate in ppm).
           "CREATE TABLE tax_rates ("
           " country TEXT NOT NULL, state TEXT NOT NULL, rate_ppm BIGINT NOT NULL,"
           " PRIMARY KEY (country, state))",
           "CREATE TABLE billing_addresses ("
           " account_id TEXT PRIMARY KEY, country TEXT NOT NULL, state TEXT NOT NULL,"
           " updated_at BIGINT NOT NULL)",
           // Listing fee overrides per product (default 20 % elsewhere).
           "CREATE TABLE listing_fees ("
           " product_id TEXT PRIMARY KEY, rate_ppm BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
           // One row per closed month: written in the month's closing transaction, so a month
           // is billed exactly once.
           "CREATE TABLE billing_periods ("
           " month TEXT PRIMARY KEY, closed_at BIGINT NOT NULL, invoices BIGINT NOT NULL,"
           " disbursements BIGINT NOT NULL, total BIGINT NOT NULL)",
           // The offer in force for a subscription from effective_at (micros, an hour
           // start) on; the latest row (effective_at, seq) at or before an hour wins, else the
           // subscription's own offer snapshot. pricing: the offer's PricingMicros JSON.
           "CREATE TABLE subscription_offer_changes ("
           " id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, product_id TEXT NOT NULL,"
           " account_id TEXT NOT NULL, effective_at BIGINT NOT NULL, seq BIGINT NOT NULL,"
           " pricing TEXT NOT NULL, kind TEXT NOT NULL, created_at BIGINT NOT NULL)",
           "CREATE INDEX subscription_offer_changes_by_sub ON subscription_offer_changes"
           " (subscription_id, effective_at, seq)",
           // The software part of each refund, owed back by the seller; disbursement_id is ''
           // until a disbursement subtracted it.
           "CREATE TABLE refund_settlements ("
           " adjustment_id TEXT NOT NULL, seller_account TEXT NOT NULL, product_id TEXT NOT NULL,"
           " amount BIGINT NOT NULL, created_at BIGINT NOT NULL, disbursement_id TEXT NOT NULL,"
           " PRIMARY KEY (adjustment_id, seller_account, product_id))",
           "CREATE INDEX refund_settlements_pending ON refund_settlements"
           " (seller_account, disbursement_id)",
       }},
      {15,
       "seller reports",
       {
           // MIGRATION-15 (reports part): statements go here.
           // One row per GenerateDataSet request (customer_defined_values: JSON object).
           "CREATE TABLE dataset_requests ("
           " id TEXT PRIMARY KEY, seller_account TEXT NOT NULL, data_set_type TEXT NOT NULL,"
           " publication_date TEXT NOT NULL, bucket TEXT NOT NULL, csv_key TEXT NOT NULL,"
           " meta_key TEXT NOT NULL, role_name_arn TEXT NOT NULL, sns_topic_arn TEXT NOT NULL,"
           " customer_defined_values TEXT NOT NULL, row_count BIGINT NOT NULL,"
           " created_at BIGINT NOT NULL)",
           "CREATE INDEX dataset_requests_by_seller ON dataset_requests"
           " (seller_account, created_at)",
       }},
  };
  return kMigrations;
}

}  // namespace mercato
