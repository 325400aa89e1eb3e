// Request-side helpers of the S3 API: bucket names and ownership, small XML bodies,
// object metadata headers, checksums, and the pipeline that streams an upload body into a
// blob while verifying every digest the client declared.
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "api/s3/s3_internal.h"
#include "base/crypto.h"
#include "fmt/format.h"
#include "http/sigv4.h"

namespace mercato::api::s3 {
namespace {

bool IsLowerOrDigit(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); }

bool LooksLikeIpv4(std::string_view name) {
  int dots = 0;
  for (char ch : name) {
    if (ch == '.') {
      ++dots;
    } else if (ch < '0' || ch > '9') {
      return false;
    }
  }
  return dots == 3;
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
         });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

constexpr const char* kChecksumAlgorithms[] = {"crc32", "crc32c", "sha1", "sha256"};

bool IsKnownAlgorithm(std::string_view a) {
  return std::any_of(std::begin(kChecksumAlgorithms), std::end(kChecksumAlgorithms),
                     [a](const char* k) { return a == k; });
}

// Incremental computation of one of S3's checksum algorithms.
class ChecksumCalc {
 public:
  explicit ChecksumCalc(std::string algorithm) : algorithm_(std::move(algorithm)) {
    if (algorithm_ == "sha256") hasher_ = Hasher::Create("sha256");
    if (algorithm_ == "sha1") {
      sha1_ = EVP_MD_CTX_new();
      EVP_DigestInit_ex(sha1_, EVP_sha1(), nullptr);
    }
  }
  ~ChecksumCalc() {
    if (sha1_) EVP_MD_CTX_free(sha1_);
  }
  void Update(std::string_view data) {
    if (algorithm_ == "crc32") crc_ = Crc32Update(crc_, data);
    if (algorithm_ == "crc32c") crc_ = Crc32cUpdate(crc_, data);
    if (hasher_) hasher_->Update(data);
    if (sha1_) EVP_DigestUpdate(sha1_, data.data(), data.size());
  }
  std::string FinalBase64() {
    if (hasher_) return Base64Encode(hasher_->Final());
    if (sha1_) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(sha1_, md, &len);
      return Base64Encode(std::string_view(reinterpret_cast<char*>(md), len));
    }
    return CrcToBase64(crc_);
  }
  const std::string& algorithm() const { return algorithm_; }

 private:
  std::string algorithm_;
  uint32_t crc_ = 0;
  std::unique_ptr<Hasher> hasher_;
  EVP_MD_CTX* sha1_ = nullptr;
};

absl::StatusOr<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return S3Error("InvalidArgument", fmt::format("not a valid length: {}", s));
  }
  return v;
}

// The checksum the client declared for a body: algorithm, and the value when sent as a
// header (empty when it arrives in a trailer or the client only named the algorithm).
struct DeclaredChecksum {
  std::string algorithm;
  std::string value;
  bool in_trailer = false;
};

absl::StatusOr<std::optional<DeclaredChecksum>> DeclaredChecksumOf(const http::Request& req) {
  for (const char* alg : kChecksumAlgorithms) {
    std::string_view v = req.Header(ChecksumHeaderName(alg));
    if (!v.empty()) return DeclaredChecksum{alg, std::string(v), false};
  }
  std::string trailer = Lower(req.Header("x-amz-trailer"));
  if (trailer.starts_with("x-amz-checksum-")) {
    std::string alg = trailer.substr(strlen("x-amz-checksum-"));
    if (IsKnownAlgorithm(alg)) return DeclaredChecksum{alg, "", true};
  }
  std::string sdk = Lower(req.Header("x-amz-sdk-checksum-algorithm"));
  if (IsKnownAlgorithm(sdk)) return DeclaredChecksum{sdk, "", false};
  return std::nullopt;
}

absl::StatusOr<std::string> ContentMd5Of(const http::Request& req) {
  std::string_view header = req.Header("content-md5");
  if (header.empty()) return std::string();
  auto md5 = Base64Decode(header);
  if (!md5.ok() || md5->size() != 16) {
    return S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.");
  }
  return *md5;
}

std::string UpperAlg(std::string_view alg) {
  std::string out(alg);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

bool IsValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char ch : name) {
    if (!IsLowerOrDigit(ch) && ch != '.' && ch != '-') return false;
  }
  if (!IsLowerOrDigit(name.front()) || !IsLowerOrDigit(name.back())) return false;
  if (name.find("..") != std::string_view::npos) return false;
  if (name.find(".-") != std::string_view::npos || name.find("-.") != std::string_view::npos) {
    return false;
  }
  if (LooksLikeIpv4(name)) return false;
  for (std::string_view p : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (name.starts_with(p)) return false;
  }
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3"}) {
    if (name.ends_with(s)) return false;
  }
  return true;
}

static absl::Status BucketOwnerCheck(const absl::StatusOr<SqlRows>& rows, Ctx& c) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return S3Error("NoSuchBucket", "The specified bucket does not exist");
  if ((*rows)[0].Text(0) != c.account_id()) return S3Error("AccessDenied", "Access Denied");
  return absl::OkStatus();
}

absl::Status CheckBucketAccess(Ctx& c, std::string_view bucket) {
  return BucketOwnerCheck(
      c.store.Query("SELECT account_id FROM buckets WHERE name = ?", {std::string(bucket)}), c);
}

absl::Status CheckBucketInTx(Transaction& tx, Ctx& c, std::string_view bucket) {
  return BucketOwnerCheck(
      tx.Query("SELECT account_id FROM buckets WHERE name = ?", {std::string(bucket)}), c);
}

absl::StatusOr<std::string> ReadXmlBody(Ctx& c) {
  if (!c.buffered_body) {
    auto body = c.body.ReadAll(c.options.max_xml_body);
    if (!body.ok()) {
      if (body.status().code() == absl::StatusCode::kResourceExhausted) {
        return S3Error("MaxMessageLengthExceeded", "Your request was too big.");
      }
      return body.status();
    }
    c.buffered_body = std::move(*body);
  }
  const std::string& body = *c.buffered_body;
  std::string_view declared = c.request.Header("x-amz-content-sha256");
  if (IsHex64(declared) && Lower(declared) != Sha256Hex(body)) {
    return S3Error("XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  ASSIGN_OR_RETURN(std::string md5, ContentMd5Of(c.request));
  if (!md5.empty() && md5 != Md5(body)) {
    return S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  ASSIGN_OR_RETURN(auto declared_sum, DeclaredChecksumOf(c.request));
  if (declared_sum && !declared_sum->value.empty()) {
    ChecksumCalc calc(declared_sum->algorithm);
    calc.Update(body);
    if (calc.FinalBase64() != declared_sum->value) {
      return S3Error("BadDigest", fmt::format("The {} you specified did not match the calculated "
                                              "checksum.",
                                              UpperAlg(declared_sum->algorithm)));
    }
  }
  return body;
}

Json CollectMetadata(const http::Request& request) {
  Json meta = Json::object();
  for (const auto& [name, value] : request.headers) {
    if (name.starts_with("x-amz-meta-")) {
      meta[name] = value;
    } else if (name == "cache-control" || name == "content-disposition" ||
               name == "content-language" || name == "expires" ||
               name == "x-amz-website-redirect-location") {
      meta[name] = value;
    } else if (name == "content-encoding") {
      // aws-chunked is the transfer framing, not the object's encoding.
      std::string kept;
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        std::string part = value.substr(start, comma - start);
        part.erase(0, part.find_first_not_of(' '));
        part.erase(part.find_last_not_of(' ') + 1);
        if (!part.empty() && part != "aws-chunked") kept += (kept.empty() ? "" : ",") + part;
        start = comma + 1;
      }
      if (!kept.empty()) meta[name] = kept;
    }
  }
  return meta;
}

void EmitMetadata(const Json& metadata, http::Response& response) {
  if (!metadata.is_object()) return;
  for (auto it = metadata.begin(); it != metadata.end(); ++it) {
    if (it.value().is_string()) response.SetHeader(it.key(), it.value().get<std::string>());
  }
}

std::string ComputeChecksum(std::string_view algorithm, std::string_view data) {
  ChecksumCalc calc{std::string(algorithm)};
  calc.Update(data);
  return calc.FinalBase64();
}

bool IsChecksumAlgorithm(std::string_view algorithm) { return IsKnownAlgorithm(algorithm); }

std::string ChecksumHeaderName(std::string_view algorithm) {
  return fmt::format("x-amz-checksum-{}", Lower(algorithm));
}

std::string ChecksumXmlName(std::string_view algorithm) { return "Checksum" + UpperAlg(algorithm); }

std::string EncodeChecksum(const std::optional<Checksum>& c) {
  if (!c) return "";
  return c->algorithm + ":" + c->value;
}

std::optional<Checksum> DecodeChecksum(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return Checksum{std::string(s.substr(0, colon)), std::string(s.substr(colon + 1))};
}

absl::StatusOr<StoredBody> StoreBody(Ctx& c, std::string_view expected_algorithm) {
  const http::Request& req = c.request;
  std::string sha =
      c.auth.sigv4 ? c.auth.sigv4->content_sha256 : std::string(req.Header("x-amz-content-sha256"));
  bool aws_chunked = sha.starts_with("STREAMING-") ||
                     Lower(req.Header("content-encoding")).find("aws-chunked") != std::string::npos;
  std::unique_ptr<http::AwsChunkedReader> chunked;
  http::BodyReader* in = &c.body;
  uint64_t length = 0;
  if (aws_chunked) {
    std::string_view decoded = req.Header("x-amz-decoded-content-length");
    if (decoded.empty() || !c.auth.sigv4) {
      return S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
    }
    ASSIGN_OR_RETURN(length, ParseU64(decoded));
    chunked =
        std::make_unique<http::AwsChunkedReader>(c.body, *c.auth.sigv4, c.auth.signing_key, length);
    in = chunked.get();
  } else {
    std::optional<uint64_t> declared = c.body.content_length();
    if (!declared) {
      return S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
    }
    length = *declared;
  }
  if (length > c.options.max_put_size) {
    return S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
  }
  ASSIGN_OR_RETURN(std::string content_md5, ContentMd5Of(req));
  ASSIGN_OR_RETURN(auto declared_sum, DeclaredChecksumOf(req));
  std::string algorithm = declared_sum ? declared_sum->algorithm : "";
  if (!expected_algorithm.empty()) {
    if (!algorithm.empty() && algorithm != expected_algorithm) {
      return S3Error("InvalidRequest",
                     fmt::format("Checksum Type mismatch occurred, expected checksum Type: {}, "
                                 "actual checksum Type: {}",
                                 expected_algorithm, algorithm));
    }
    algorithm = std::string(expected_algorithm);
  }

  std::unique_ptr<Hasher> md5 = Hasher::Create("md5");
  // A declared x-amz-content-sha256 is checked against the blob id, which is the SHA-256 of
  // the same bytes: hashing the body a second time here would cost a quarter of a PUT.
  bool check_sha256 = IsHex64(sha);
  std::optional<ChecksumCalc> calc;
  if (!algorithm.empty()) calc.emplace(algorithm);

  ASSIGN_OR_RETURN(BlobWriterPtr writer, c.blobs.NewWriter());
  std::string buf(1 << 20, '\0');
  uint64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
    if (n == 0) break;
    std::string_view chunk(buf.data(), n);
    total += n;
    if (total > length) {
      return S3Error("InvalidRequest", "The request body is longer than its declared length.");
    }
    md5->Update(chunk);
    if (calc) calc->Update(chunk);
    RETURN_IF_ERROR(writer->Write(chunk));
  }
  if (total != length) {
    return S3Error("IncompleteBody",
                   "You did not provide the number of bytes specified by the Content-Length "
                   "HTTP header.");
  }
  StoredBody stored;
  stored.md5 = md5->Final();
  if (!content_md5.empty() && content_md5 != stored.md5) {
    return S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  if (calc) {
    std::string actual = calc->FinalBase64();
    std::string expected = declared_sum ? declared_sum->value : "";
    if (declared_sum && declared_sum->in_trailer && chunked) {
      std::string name = ChecksumHeaderName(declared_sum->algorithm);
      for (const auto& [k, v] : chunked->trailers()) {
        if (Lower(k) == name) expected = v;
      }
    }
    if (!expected.empty() && expected != actual) {
      return S3Error("BadDigest",
                     fmt::format("The {} you specified did not match the calculated checksum.",
                                 UpperAlg(algorithm)));
    }
    stored.checksum = Checksum{algorithm, actual};
  }
  // From here until the caller's metadata commit, the garbage collector must not delete
  // this blob (it may be an existing, unreferenced blob with the same content).
  stored.lock = std::shared_lock<std::shared_mutex>(c.commit_mu);
  ASSIGN_OR_RETURN(stored.blob, writer->Commit());
  RETURN_IF_ERROR(c.store
                      .Exec("INSERT INTO s3_blobs (blob_id, written_at) VALUES (?, ?) "
                            "ON CONFLICT (blob_id) DO UPDATE SET written_at = excluded.written_at",
                            {stored.blob.id, ToMicros(c.clock.Now())})
                      .status());
  // Checked after the commit so the blob is known to the garbage collector either way; a
  // mismatching body is never referenced, so it is collected (and a blob it shares its
  // content with is left alone).
  if (check_sha256 && stored.blob.id != Lower(sha)) {
    return S3Error("XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return stored;
}

std::string EncodeSegments(const std::vector<Segment>& segments) {
  Json arr = Json::array();
  for (const Segment& s : segments) arr.push_back({{"blob", s.blob}, {"size", s.size}});
  return arr.dump();
}

absl::StatusOr<std::vector<Segment>> DecodeSegments(std::string_view json) {
  ASSIGN_OR_RETURN(Json arr, ParseJson(json));
  std::vector<Segment> out;
  if (!arr.is_array()) return absl::DataLossError("object segments are not an array");
  for (const Json& s : arr) {
    if (!s.is_object() || !s.contains("blob") || !s.contains("size")) {
      return absl::DataLossError("malformed object segment");
    }
    out.push_back({s["blob"].get<std::string>(), s["size"].get<uint64_t>()});
  }
  return out;
}

namespace {

// Streams a byte range of an object's segments, opening one blob at a time.
class SegmentSource final : public http::BodySource {
 public:
  SegmentSource(BlobStore& blobs, std::vector<Segment> segments, uint64_t offset, uint64_t length)
      : blobs_(blobs),
        segments_(std::move(segments)),
        offset_(offset),
        remaining_(length),
        length_(length) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (remaining_ > 0) {
      if (!reader_) {
        // Skip whole segments before the offset.
        while (index_ < segments_.size() && offset_ >= segments_[index_].size) {
          offset_ -= segments_[index_].size;
          ++index_;
        }
        if (index_ >= segments_.size()) return absl::DataLossError("object shorter than listed");
        uint64_t take = std::min(remaining_, segments_[index_].size - offset_);
        ASSIGN_OR_RETURN(reader_, blobs_.Open(segments_[index_].blob, offset_, take));
        offset_ = 0;
        ++index_;
      }
      ASSIGN_OR_RETURN(size_t got, reader_->Read(buf, std::min<uint64_t>(n, remaining_)));
      if (got == 0) {
        reader_.reset();
        continue;
      }
      remaining_ -= got;
      return got;
    }
    return 0;
  }
  std::optional<uint64_t> size() const override { return length_; }

 private:
  BlobStore& blobs_;
  std::vector<Segment> segments_;
  size_t index_ = 0;
  uint64_t offset_;
  uint64_t remaining_;
  uint64_t length_;
  BlobReaderPtr reader_;
};

}  // namespace

http::BodySourcePtr NewSegmentSource(BlobStore& blobs, std::vector<Segment> segments,
                                     uint64_t offset, uint64_t length) {
  return std::make_unique<SegmentSource>(blobs, std::move(segments), offset, length);
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string Quote(std::string_view etag) { return fmt::format("\"{}\"", etag); }

std::string Unquote(std::string_view etag) {
  std::string_view e = etag;
  while (!e.empty() && (e.front() == ' ')) e.remove_prefix(1);
  while (!e.empty() && (e.back() == ' ')) e.remove_suffix(1);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return std::string(e);
}

std::string MaybeUrlEncode(const Ctx& c, std::string_view s) {
  auto enc = c.Param("encoding-type");
  if (enc && *enc == "url") return http::UriEncode(s, true);
  return std::string(s);
}

}  // namespace mercato::api::s3
