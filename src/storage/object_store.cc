#include "storage/object_store.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::storage {
namespace {

constexpr size_t kChunk = 1 << 20;

struct Segment {
  std::string blob;
  uint64_t size = 0;
};

absl::StatusOr<std::vector<Segment>> DecodeSegments(const std::string& text) {
  ASSIGN_OR_RETURN(Json arr, ParseJson(text));
  if (!arr.is_array()) return absl::DataLossError("object segments are not an array");
  std::vector<Segment> out;
  for (const Json& s : arr) {
    if (!s.is_object() || !s.contains("blob") || !s.contains("size") || !s["blob"].is_string() ||
        !s["size"].is_number_integer()) {
      return absl::DataLossError("malformed object segment");
    }
    out.push_back({s["blob"].get<std::string>(), s["size"].get<uint64_t>()});
  }
  return out;
}

absl::Status BucketCheck(const absl::StatusOr<SqlRows>& rows, std::string_view account_id,
                         std::string_view bucket) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return AwsError(absl::StatusCode::kNotFound, "NoSuchBucket",
                    fmt::format("S3 bucket '{}' does not exist", bucket));
  }
  if ((*rows)[0].Text(0) != account_id) {
    return AwsError(
        absl::StatusCode::kPermissionDenied, "AccessDenied",
        fmt::format("S3 bucket '{}' does not belong to account {}", bucket, account_id));
  }
  return absl::OkStatus();
}

constexpr std::string_view kBucketOwner = "SELECT account_id FROM buckets WHERE name = ?";

ObjectInfo InfoFromRow(const SqlRow& r) {
  ObjectInfo info;
  info.key = r.Text(0);
  info.size = static_cast<uint64_t>(r.Int(1));
  info.etag = r.Text(2);
  info.content_type = r.Text(3);
  info.last_modified = absl::FromUnixMicros(r.Int(4));
  return info;
}

// The smallest string greater than every string starting with `prefix` ("" if none).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

class SegmentReader final : public ObjectReader {
 public:
  SegmentReader(BlobStore& blobs, ObjectInfo info, std::vector<Segment> segments)
      : blobs_(blobs), info_(std::move(info)), segments_(std::move(segments)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      if (!reader_) {
        if (index_ >= segments_.size()) return 0;
        auto opened = blobs_.Open(segments_[index_].blob, 0, segments_[index_].size);
        if (!opened.ok()) {
          return absl::DataLossError(fmt::format("object '{}' is missing its data: {}", info_.key,
                                                 std::string(opened.status().message())));
        }
        reader_ = std::move(*opened);
        ++index_;
      }
      ASSIGN_OR_RETURN(size_t got, reader_->Read(buf, n));
      if (got > 0) return got;
      reader_.reset();
    }
  }
  const ObjectInfo& info() const override { return info_; }

 private:
  BlobStore& blobs_;
  ObjectInfo info_;
  std::vector<Segment> segments_;
  size_t index_ = 0;
  BlobReaderPtr reader_;
};

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

absl::Status StampBlob(MetadataStore& store, Transaction* tx, const std::string& id, int64_t now) {
  constexpr std::string_view kSql =
      "INSERT INTO s3_blobs (blob_id, written_at) VALUES (?, ?) "
      "ON CONFLICT (blob_id) DO UPDATE SET written_at = excluded.written_at";
  if (tx) return tx->Exec(kSql, {id, now}).status();
  return store.Exec(kSql, {id, now}).status();
}

}  // namespace

std::string S3Uri::ToString() const { return fmt::format("s3://{}/{}", bucket, key); }

absl::StatusOr<S3Uri> ObjectStore::ParseS3Uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (!uri.starts_with(kScheme)) {
    return absl::InvalidArgumentError(fmt::format("'{}' is not an s3:// URI", uri));
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Uri out;
  out.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.key = std::string(rest.substr(slash + 1));
  if (out.bucket.empty()) {
    return absl::InvalidArgumentError(fmt::format("'{}' names no bucket", uri));
  }
  return out;
}

absl::Status ObjectStore::CheckBucket(std::string_view account_id, std::string_view bucket) {
  return BucketCheck(store_.Query(kBucketOwner, {std::string(bucket)}), account_id, bucket);
}

absl::StatusOr<std::vector<ObjectInfo>> ObjectStore::List(std::string_view account_id,
                                                          std::string_view bucket,
                                                          std::string_view prefix) {
  RETURN_IF_ERROR(CheckBucket(account_id, bucket));
  std::string upper = PrefixSuccessor(std::string(prefix));
  constexpr std::string_view kCols =
      "SELECT object_key, size, etag, content_type, last_modified FROM objects "
      "WHERE bucket = ? AND object_key >= ?";
  absl::StatusOr<SqlRows> rows =
      upper.empty() ? store_.Query(fmt::format("{} ORDER BY object_key", kCols),
                                   {std::string(bucket), std::string(prefix)})
                    : store_.Query(fmt::format("{} AND object_key < ? ORDER BY object_key", kCols),
                                   {std::string(bucket), std::string(prefix), upper});
  if (!rows.ok()) return rows.status();
  std::vector<ObjectInfo> out;
  for (const SqlRow& r : *rows) {
    ObjectInfo info = InfoFromRow(r);
    if (info.key.starts_with(prefix)) out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<ObjectInfo> ObjectStore::Head(std::string_view account_id, std::string_view bucket,
                                             std::string_view key) {
  ASSIGN_OR_RETURN(ObjectReaderPtr reader, Open(account_id, bucket, key));
  return reader->info();
}

absl::StatusOr<ObjectReaderPtr> ObjectStore::Open(std::string_view account_id,
                                                  std::string_view bucket, std::string_view key) {
  RETURN_IF_ERROR(CheckBucket(account_id, bucket));
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT object_key, size, etag, content_type, last_modified, "
                                "segments FROM objects WHERE bucket = ? AND object_key = ?",
                                {std::string(bucket), std::string(key)}));
  if (rows.empty()) {
    return AwsError(absl::StatusCode::kNotFound, "NoSuchKey",
                    fmt::format("S3 object s3://{}/{} does not exist", bucket, key));
  }
  ASSIGN_OR_RETURN(std::vector<Segment> segments, DecodeSegments(rows[0].Text(5)));
  return std::make_unique<SegmentReader>(blobs_, InfoFromRow(rows[0]), std::move(segments));
}

absl::Status ObjectStore::Download(std::string_view account_id, std::string_view bucket,
                                   std::string_view key, const std::string& path) {
  ASSIGN_OR_RETURN(ObjectReaderPtr reader, Open(account_id, bucket, key));
  FilePtr f(std::fopen(path.c_str(), "wb"));
  if (!f) {
    return absl::InternalError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  std::string buf(kChunk, '\0');
  while (true) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
    if (n == 0) break;
    if (std::fwrite(buf.data(), 1, n, f.get()) != n) {
      return absl::InternalError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
  }
  if (std::fclose(f.release()) != 0) {
    return absl::InternalError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ObjectInfo> ObjectStore::Put(std::string_view account_id, std::string_view bucket,
                                            std::string_view key, std::string_view content_type,
                                            const ChunkSource& source) {
  if (key.empty() || key.size() > 1024) {
    return absl::InvalidArgumentError(
        fmt::format("S3 object key must be 1 to 1024 bytes long (got {})", key.size()));
  }
  // Fail early (before streaming) on a bucket the account cannot write.
  RETURN_IF_ERROR(CheckBucket(account_id, bucket));

  std::unique_ptr<Hasher> md5 = Hasher::Create("md5");
  std::unique_ptr<Hasher> sha256 = Hasher::Create("sha256");
  uint32_t crc = 0;
  ASSIGN_OR_RETURN(BlobWriterPtr writer, blobs_.NewWriter());
  std::string buf(kChunk, '\0');
  uint64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, source(buf.data(), buf.size()));
    if (n == 0) break;
    std::string_view chunk(buf.data(), n);
    md5->Update(chunk);
    sha256->Update(chunk);
    crc = Crc32Update(crc, chunk);
    RETURN_IF_ERROR(writer->Write(chunk));
    total += n;
  }
  std::string blob_id = HexEncode(sha256->Final());
  Json segments = Json::array();
  if (total > 0) {
    // Stamp first: see the header on the race with the S3 garbage collector.
    RETURN_IF_ERROR(StampBlob(store_, nullptr, blob_id, absl::ToUnixMicros(clock_.Now())));
    ASSIGN_OR_RETURN(BlobInfo blob, writer->Commit());
    if (blob.id != blob_id) {
      return absl::InternalError("blob store returned an unexpected id");
    }
    segments.push_back({{"blob", blob.id}, {"size", blob.size}});
  }

  ObjectInfo info;
  info.key = std::string(key);
  info.size = total;
  info.etag = HexEncode(md5->Final());
  info.content_type = content_type.empty() ? "binary/octet-stream" : std::string(content_type);
  info.last_modified = clock_.Now();
  int64_t now = absl::ToUnixMicros(info.last_modified);

  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  RETURN_IF_ERROR(BucketCheck(tx->Query(kBucketOwner, {std::string(bucket)}), account_id, bucket));
  if (total > 0) RETURN_IF_ERROR(StampBlob(store_, tx.get(), blob_id, now));
  RETURN_IF_ERROR(
      tx->Exec("INSERT INTO objects (bucket, object_key, size, etag, content_type, metadata, "
               "segments, checksum, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (bucket, object_key) DO UPDATE SET size = excluded.size, "
               "etag = excluded.etag, content_type = excluded.content_type, "
               "metadata = excluded.metadata, segments = excluded.segments, "
               "checksum = excluded.checksum, last_modified = excluded.last_modified",
               {std::string(bucket), info.key, static_cast<int64_t>(total), info.etag,
                info.content_type, std::string("{}"), segments.dump(), "crc32:" + CrcToBase64(crc),
                now})
          .status());
  RETURN_IF_ERROR(tx->Commit());
  return info;
}

absl::StatusOr<ObjectInfo> ObjectStore::PutFile(std::string_view account_id,
                                                std::string_view bucket, std::string_view key,
                                                std::string_view content_type,
                                                const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    return absl::InternalError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  FILE* raw = f.get();
  return Put(account_id, bucket, key, content_type,
             [raw, &path](char* buf, size_t n) -> absl::StatusOr<size_t> {
               size_t got = std::fread(buf, 1, n, raw);
               if (got == 0 && std::ferror(raw)) {
                 return absl::InternalError(fmt::format("cannot read {}", path));
               }
               return got;
             });
}

absl::StatusOr<ObjectInfo> ObjectStore::Copy(std::string_view src_account,
                                             std::string_view src_bucket, std::string_view src_key,
                                             std::string_view dst_account,
                                             std::string_view dst_bucket,
                                             std::string_view dst_key) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  ASSIGN_OR_RETURN(TransactionPtr tx, store_.Begin());
  RETURN_IF_ERROR(
      BucketCheck(tx->Query(kBucketOwner, {std::string(src_bucket)}), src_account, src_bucket));
  RETURN_IF_ERROR(
      BucketCheck(tx->Query(kBucketOwner, {std::string(dst_bucket)}), dst_account, dst_bucket));
  ASSIGN_OR_RETURN(int64_t copied,
                   tx->Exec("INSERT INTO objects (bucket, object_key, size, etag, content_type, "
                            "metadata, segments, checksum, last_modified) SELECT ?, ?, size, etag,"
                            " content_type, metadata, segments, checksum, ? FROM objects WHERE"
                            " bucket = ? AND object_key = ? ON CONFLICT (bucket, object_key) DO"
                            " UPDATE SET size = excluded.size, etag = excluded.etag,"
                            " content_type = excluded.content_type, metadata = excluded.metadata,"
                            " segments = excluded.segments, checksum = excluded.checksum,"
                            " last_modified = excluded.last_modified",
                            {std::string(dst_bucket), std::string(dst_key), now,
                             std::string(src_bucket), std::string(src_key)}));
  if (copied == 0) {
    return AwsError(absl::StatusCode::kNotFound, "NoSuchKey",
                    fmt::format("s3://{}/{} does not exist", src_bucket, src_key));
  }
  RETURN_IF_ERROR(tx->Commit());
  return Head(dst_account, dst_bucket, dst_key);
}

absl::Status ObjectStore::EnsureBucket(std::string_view account_id, std::string_view bucket,
                                       std::string_view region) {
  RETURN_IF_ERROR(store_
                      .Exec("INSERT INTO buckets (name, account_id, region, created_at) VALUES"
                            " (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                            {std::string(bucket), std::string(account_id), std::string(region),
                             absl::ToUnixMicros(clock_.Now())})
                      .status());
  return CheckBucket(account_id, bucket);
}

absl::StatusOr<ObjectInfo> ObjectStore::PutBytes(std::string_view account_id,
                                                 std::string_view bucket, std::string_view key,
                                                 std::string_view content_type,
                                                 std::string_view data) {
  size_t offset = 0;
  return Put(account_id, bucket, key, content_type,
             [&](char* buf, size_t n) -> absl::StatusOr<size_t> {
               size_t take = std::min(n, data.size() - offset);
               std::memcpy(buf, data.data() + offset, take);
               offset += take;
               return take;
             });
}

}  // namespace mercato::storage
