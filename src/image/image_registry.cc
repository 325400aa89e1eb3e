#include "image/image_registry.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "base/status.h"
#include "fmt/format.h"

namespace mercato {
namespace {

constexpr char kColumns[] =
    "account_id, repository, digest, manifest, config, layers, size_bytes, format, created_at,"
    " scan_status, scan_report";

bool ValidRepository(const std::string& r) {
  static const std::regex kRe("[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*");
  return !r.empty() && r.size() <= 255 && std::regex_match(r, kRe);
}
bool ValidTag(const std::string& t) {
  static const std::regex kRe("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(t, kRe);
}
bool ValidDigest(const std::string& d) {
  static const std::regex kRe("sha256:[0-9a-f]{64}");
  return std::regex_match(d, kRe);
}
bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), ::isdigit);
}

Json LayersToJson(const std::vector<ImageLayer>& layers) {
  Json a = Json::array();
  for (const auto& l : layers) {
    a.push_back({{"digest", l.digest},
                 {"diff_id", l.diff_id},
                 {"blob", l.blob_id},
                 {"size", l.size},
                 {"compressed_size", l.compressed_size},
                 {"media_type", l.media_type}});
  }
  return a;
}

std::vector<ImageLayer> LayersFromJson(const Json& a) {
  std::vector<ImageLayer> out;
  if (!a.is_array()) return out;
  for (const Json& l : a) {
    out.push_back({l.value("digest", ""), l.value("diff_id", ""), l.value("blob", ""),
                   l.value("size", uint64_t{0}), l.value("compressed_size", uint64_t{0}),
                   l.value("media_type", "")});
  }
  return out;
}

absl::Status NotFound(std::string_view reference) {
  return absl::NotFoundError(fmt::format("image '{}' not found", reference));
}

}  // namespace

absl::StatusOr<ImageReference> ParseImageReference(std::string_view reference,
                                                   std::string_view account_id) {
  std::string ref(reference);
  ImageReference out;
  if (size_t at = ref.find('@'); at != std::string::npos) {
    out.digest = ref.substr(at + 1);
    ref.resize(at);
    if (!ValidDigest(out.digest)) {
      return absl::InvalidArgumentError(
          fmt::format("'{}' is not a valid digest (sha256:<64 hex>)", out.digest));
    }
  }
  std::vector<std::string> parts;
  for (size_t i = 0;;) {
    size_t j = ref.find('/', i);
    parts.push_back(ref.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  size_t first = 0;
  if (parts.size() >= 3 && IsAccountId(parts[1]) &&
      (parts[0].find_first_of(".:") != std::string::npos || parts[0] == "localhost")) {
    if (!account_id.empty() && parts[1] != account_id) return NotFound(reference);
    first = 2;
  }
  for (size_t i = first; i < parts.size(); ++i) {
    out.repository += (i > first ? "/" : "") + parts[i];
  }
  size_t colon = out.repository.rfind(':');
  if (colon != std::string::npos) {
    out.tag = out.repository.substr(colon + 1);
    out.repository.resize(colon);
  } else if (out.digest.empty()) {
    out.tag = "latest";
  }
  if (!ValidRepository(out.repository)) {
    return absl::InvalidArgumentError(
        fmt::format("invalid repository name '{}' (lower-case letters, digits, '.', '_', '-', '/')",
                    out.repository));
  }
  if (!out.tag.empty() && !ValidTag(out.tag)) {
    return absl::InvalidArgumentError(fmt::format("invalid tag '{}'", out.tag));
  }
  return out;
}

Json ImageRecord::ToJson() const {
  Json layers_json = Json::array();
  for (const auto& l : layers) {
    layers_json.push_back({{"digest", l.digest}, {"diff_id", l.diff_id}, {"size", l.size}});
  }
  return {{"account_id", account_id},
          {"repository", repository},
          {"digest", digest},
          {"tags", tags},
          {"image_uri", image_uri},
          {"format", format},
          {"size_bytes", size_bytes},
          {"created_at", absl::ToUnixSeconds(created_at)},
          {"config", RuntimeConfigToJson(config)},
          {"layers", layers_json},
          {"scan_status", scan_status},
          {"scan_report", scan_report}};
}

absl::StatusOr<std::unique_ptr<ImageRegistry>> ImageRegistry::Create(MetadataStore& store,
                                                                     BlobStore& blobs,
                                                                     const Clock& clock,
                                                                     ImageRegistryOptions options) {
  if (options.registry_host.empty()) {
    return absl::InvalidArgumentError("registry_host is required");
  }
  options.ingest.max_total_bytes =
      std::min(options.ingest.max_total_bytes, options.max_image_bytes);
  options.ingest.max_layer_bytes =
      std::min(options.ingest.max_layer_bytes, options.max_image_bytes);
  return std::unique_ptr<ImageRegistry>(new ImageRegistry(store, blobs, clock, std::move(options)));
}

std::string ImageRegistry::ImageUri(std::string_view account_id, std::string_view repository,
                                    std::string_view tag) const {
  return fmt::format("{}/{}/{}{}{}", options_.registry_host, account_id, repository,
                     tag.starts_with("sha256:") ? "@" : ":", tag);
}

absl::StatusOr<PushResult> ImageRegistry::Push(std::string_view account_id,
                                               const std::string& archive_path,
                                               std::string_view repo_tag) {
  ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(repo_tag, account_id));
  if (ref.tag.empty()) {
    return absl::InvalidArgumentError("push needs a REPO:TAG name, not a digest");
  }
  std::error_code ec;
  uint64_t archive_size = std::filesystem::file_size(archive_path, ec);
  if (ec) return absl::NotFoundError(fmt::format("cannot read image archive '{}'", archive_path));
  if (archive_size > options_.max_image_bytes) {
    return absl::InvalidArgumentError(
        fmt::format("image archive is {} bytes, larger than the limit of {} bytes", archive_size,
                    options_.max_image_bytes));
  }
  IngestOptions ingest = options_.ingest;
  ingest.ref_name = std::string(repo_tag);
  ASSIGN_OR_RETURN(IngestedImage image, IngestImageArchive(archive_path, blobs_, ingest));

  std::vector<std::string> blob_ids;
  for (const auto& l : image.layers) blob_ids.push_back(l.blob_id);
  std::string scan_status;
  Json scan_report;
  auto scan = ScanImageLayers(blobs_, blob_ids, options_.scan);
  if (scan.ok()) {
    scan_status = scan->status();
    scan_report = scan->ToJson();
  } else {
    scan_status = "ERROR";
    scan_report = {{"status", "ERROR"}, {"error", std::string(scan.status().message())}};
  }

  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const std::string account(account_id);
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  RETURN_IF_ERROR(
      tx->Exec(
            fmt::format("INSERT INTO images ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (account_id, repository, digest) DO UPDATE SET"
                        " scan_status = excluded.scan_status, scan_report = excluded.scan_report",
                        kColumns),
            {account, ref.repository, image.manifest_digest, image.manifest_json, image.config_json,
             LayersToJson(image.layers).dump(), static_cast<int64_t>(image.size_bytes),
             image.format, now, scan_status, scan_report.dump()})
          .status());
  RETURN_IF_ERROR(
      tx->Exec("INSERT INTO image_tags (account_id, repository, tag, digest, updated_at)"
               " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, repository, tag)"
               " DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
               {account, ref.repository, ref.tag, image.manifest_digest, now})
          .status());
  RETURN_IF_ERROR(tx->Commit());
  return PushResult{ImageUri(account_id, ref.repository, ref.tag), image.manifest_digest,
                    image.size_bytes, scan_status};
}

absl::StatusOr<ImageRecord> ImageRegistry::Load(std::string_view account_id,
                                                std::string_view repository,
                                                std::string_view digest) {
  const std::string account(account_id), repo(repository), dig(digest);
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(fmt::format("SELECT {} FROM images WHERE account_id = ? AND"
                                            " repository = ? AND digest = ?",
                                            kColumns),
                                {account, repo, dig}));
  if (rows.empty()) return NotFound(fmt::format("{}@{}", repo, dig));
  const SqlRow& r = rows[0];
  ImageRecord rec;
  rec.account_id = r.Text(0);
  rec.repository = r.Text(1);
  rec.digest = r.Text(2);
  rec.manifest_json = r.Text(3);
  rec.config_json = r.Text(4);
  rec.layers = LayersFromJson(Json::parse(r.Text(5), nullptr, false));
  rec.size_bytes = r.Int(6);
  rec.format = r.Text(7);
  rec.created_at = absl::FromUnixMicros(r.Int(8));
  rec.scan_status = r.Text(9);
  rec.scan_report = Json::parse(r.Text(10), nullptr, false);
  auto config = ParseRuntimeConfig(Json::parse(rec.config_json, nullptr, false));
  if (config.ok()) rec.config = std::move(*config);
  ASSIGN_OR_RETURN(SqlRows tags, store_.Query("SELECT tag FROM image_tags WHERE account_id = ? AND"
                                              " repository = ? AND digest = ? ORDER BY tag",
                                              {account, repo, dig}));
  for (const auto& t : tags) rec.tags.push_back(t.Text(0));
  rec.image_uri = ImageUri(account_id, rec.repository, rec.tags.empty() ? rec.digest : rec.tags[0]);
  return rec;
}

absl::StatusOr<ImageRecord> ImageRegistry::Describe(std::string_view account_id,
                                                    std::string_view reference) {
  ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(reference, account_id));
  std::string digest = ref.digest;
  if (digest.empty()) {
    ASSIGN_OR_RETURN(SqlRows rows,
                     store_.Query("SELECT digest FROM image_tags WHERE account_id = ? AND"
                                  " repository = ? AND tag = ?",
                                  {std::string(account_id), ref.repository, ref.tag}));
    if (rows.empty()) return NotFound(reference);
    digest = rows[0].Text(0);
  }
  auto rec = Load(account_id, ref.repository, digest);
  if (absl::IsNotFound(rec.status())) return NotFound(reference);
  return rec;
}

absl::StatusOr<std::vector<ImageRecord>> ImageRegistry::List(std::string_view account_id,
                                                             std::string_view repository) {
  std::string sql = "SELECT repository, digest FROM images WHERE account_id = ?";
  SqlParams params = {std::string(account_id)};
  if (!repository.empty()) {
    sql += " AND repository = ?";
    params.push_back(std::string(repository));
  }
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query(sql + " ORDER BY repository, created_at, digest", params));
  std::vector<ImageRecord> out;
  for (const auto& r : rows) {
    ASSIGN_OR_RETURN(ImageRecord rec, Load(account_id, r.Text(0), r.Text(1)));
    out.push_back(std::move(rec));
  }
  return out;
}

absl::Status ImageRegistry::Tag(std::string_view account_id, std::string_view source,
                                std::string_view target) {
  return CopyTo(account_id, source, account_id, target).status();
}

absl::StatusOr<ImageRecord> ImageRegistry::CopyTo(std::string_view src_account,
                                                  std::string_view source,
                                                  std::string_view dst_account,
                                                  std::string_view target) {
  ASSIGN_OR_RETURN(ImageRecord src, Describe(src_account, source));
  ASSIGN_OR_RETURN(ImageReference dst, ParseImageReference(target, dst_account));
  if (dst.tag.empty()) return absl::InvalidArgumentError("tag target must be REPO:TAG");
  const std::string account(dst_account);
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  if (dst.repository != src.repository || src_account != dst_account) {
    RETURN_IF_ERROR(tx->Exec(fmt::format("INSERT INTO images ({0}) SELECT ?, ?, digest,"
                                         " manifest, config, layers, size_bytes, format, ?,"
                                         " scan_status, scan_report FROM images WHERE"
                                         " account_id = ? AND repository = ? AND digest = ?"
                                         " ON CONFLICT (account_id, repository, digest) DO NOTHING",
                                         kColumns),
                             {account, dst.repository, now, std::string(src_account),
                              src.repository, src.digest})
                        .status());
  }
  RETURN_IF_ERROR(
      tx->Exec("INSERT INTO image_tags (account_id, repository, tag, digest, updated_at)"
               " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, repository, tag)"
               " DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
               {account, dst.repository, dst.tag, src.digest, now})
          .status());
  RETURN_IF_ERROR(tx->Commit());
  return Load(dst_account, dst.repository, src.digest);
}

absl::Status ImageRegistry::Delete(std::string_view account_id, std::string_view reference) {
  ASSIGN_OR_RETURN(ImageRecord rec, Describe(account_id, reference));
  ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(reference, account_id));
  const std::string account(account_id);
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  if (!ref.tag.empty()) {
    RETURN_IF_ERROR(tx->Exec("DELETE FROM image_tags WHERE account_id = ? AND repository = ? AND"
                             " tag = ?",
                             {account, rec.repository, ref.tag})
                        .status());
    ASSIGN_OR_RETURN(SqlRows left, tx->Query("SELECT tag FROM image_tags WHERE account_id = ? AND"
                                             " repository = ? AND digest = ?",
                                             {account, rec.repository, rec.digest}));
    if (!left.empty()) return tx->Commit();
  } else {
    RETURN_IF_ERROR(tx->Exec("DELETE FROM image_tags WHERE account_id = ? AND repository = ? AND"
                             " digest = ?",
                             {account, rec.repository, rec.digest})
                        .status());
  }
  RETURN_IF_ERROR(tx->Exec("DELETE FROM images WHERE account_id = ? AND repository = ? AND"
                           " digest = ?",
                           {account, rec.repository, rec.digest})
                      .status());
  return tx->Commit();
}

absl::StatusOr<std::vector<std::string>> ImageRegistry::ReferencedBlobs() {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT DISTINCT layers FROM images"));
  std::set<std::string> ids;
  for (const auto& r : rows) {
    for (const auto& l : LayersFromJson(Json::parse(r.Text(0), nullptr, false)))
      ids.insert(l.blob_id);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

}  // namespace mercato
