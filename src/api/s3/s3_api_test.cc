// S3Api end to end within the process: SigV4-signed requests built by hand, an in-memory
// SQLite store, the in-memory blob store and a manual clock.
#include "api/s3/s3_api.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "auth/accounts.h"
#include "auth/authenticator.h"
#include "base/crypto.h"
#include "blob/memory_blob_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/sigv4.h"
#include "store/sqlite_store.h"

namespace mercato::api::s3 {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StringReader final : public http::BodyReader {
 public:
  StringReader(std::string data, bool known_length)
      : data_(std::move(data)), known_length_(known_length) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    n = std::min(n, data_.size() - pos_);
    std::copy_n(data_.data() + pos_, n, buf);
    pos_ += n;
    return n;
  }
  std::optional<uint64_t> content_length() const override {
    if (!known_length_) return std::nullopt;
    return data_.size();
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  bool known_length_;
};

struct Result {
  int status = 0;
  http::Headers headers;
  std::string body;
  std::optional<uint64_t> head_length;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, std::string(name))) return v;
    }
    return "";
  }
  std::string Code() const {
    size_t a = body.find("<Code>"), b = body.find("</Code>");
    return a == std::string::npos ? "" : body.substr(a + 6, b - a - 6);
  }
};

class S3ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    accounts_ = std::make_unique<auth::AccountService>(*store_, clock_, std::string(32, 'k'));
    authenticator_ = std::make_unique<auth::Authenticator>(*accounts_, clock_);
    alice_ = accounts_->CreateAccount("alice", false).value();
    bob_ = accounts_->CreateAccount("bob", false).value();
    S3Options options;
    options.min_part_size = 5;  // small parts keep the multipart tests fast
    s3_ = std::make_unique<S3Api>(options, *store_, blobs_, *authenticator_, clock_);
  }

  // Signs over `payload_hash` (default: the body's SHA-256) as alice unless told otherwise.
  Result Call(std::string method, std::string target, std::string body = "",
              http::Headers headers = {}, const auth::NewAccountCredentials* who = nullptr,
              std::optional<std::string> payload_hash = std::nullopt,
              std::string secret_override = "") {
    if (!who) who = &alice_;
    http::Request r;
    r.method = method;
    r.target = target;
    size_t q = target.find('?');
    r.raw_path = target.substr(0, q);
    r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
    r.path = http::PercentDecode(r.raw_path);
    r.headers = {{"host", "127.0.0.1:8600"}};
    for (auto& h : headers) r.headers.push_back(h);
    std::string secret =
        secret_override.empty() ? who->access_key.secret_access_key : secret_override;
    http::SignRequest(r, who->access_key.key.id, secret, "local", "s3",
                      payload_hash.value_or(Sha256Hex(body)), clock_.Now());
    StringReader reader(body, true);
    http::Response resp = s3_->Handle(r, reader);
    Result out{resp.status, resp.headers, resp.body, resp.head_content_length};
    if (resp.stream) {
      std::string buf(7, '\0');  // odd size: exercises segment boundaries
      while (true) {
        auto n = resp.stream->Read(buf.data(), buf.size());
        EXPECT_TRUE(n.ok()) << n.status();
        if (!n.ok() || *n == 0) break;
        out.body.append(buf.data(), *n);
      }
    }
    return out;
  }

  void MakeBucket(const std::string& name) { ASSERT_EQ(Call("PUT", "/" + name).status, 200); }
  void Put(const std::string& target, const std::string& body) {
    ASSERT_EQ(Call("PUT", target, body).status, 200) << target;
  }

  MetadataStorePtr store_;
  MemoryBlobStore blobs_;
  ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  auth::NewAccountCredentials alice_, bob_;
  std::unique_ptr<S3Api> s3_;
};

TEST_F(S3ApiTest, BucketLifecycle) {
  EXPECT_THAT(Call("GET", "/").body, Not(HasSubstr("<Bucket>")));
  MakeBucket("photos");
  Result again = Call("PUT", "/photos");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Code(), "BucketAlreadyOwnedByYou");
  Result taken = Call("PUT", "/photos", "", {}, &bob_);
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.Code(), "BucketAlreadyExists");
  EXPECT_EQ(Call("HEAD", "/photos").status, 200);
  EXPECT_EQ(Call("HEAD", "/photos", "", {}, &bob_).status, 403);
  EXPECT_THAT(Call("GET", "/").body, HasSubstr("<Name>photos</Name>"));
  EXPECT_THAT(Call("GET", "/", "", {}, &bob_).body, Not(HasSubstr("photos")));
  EXPECT_THAT(Call("GET", "/photos?location").body, HasSubstr(">local</LocationConstraint>"));

  Put("/photos/a.txt", "x");
  Result not_empty = Call("DELETE", "/photos");
  EXPECT_EQ(not_empty.status, 409);
  EXPECT_EQ(not_empty.Code(), "BucketNotEmpty");
  EXPECT_EQ(Call("DELETE", "/photos/a.txt").status, 204);
  EXPECT_EQ(Call("DELETE", "/photos").status, 204);
  Result gone = Call("HEAD", "/photos");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body, "");
  EXPECT_EQ(Call("GET", "/photos?list-type=2").Code(), "NoSuchBucket");
}

TEST_F(S3ApiTest, BadBucketNamesAndMalformedConfiguration) {
  for (std::string name : {"AB", "ab", "Upper", "a..b", "192.168.1.1", "-abc", "abc-", "a_b"}) {
    Result r = Call("PUT", "/" + name);
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_EQ(r.Code(), "InvalidBucketName") << name;
  }
  Result bad = Call("PUT", "/good-name", "<CreateBucketConfiguration><Loc");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Code(), "MalformedXML");
  EXPECT_EQ(Call("HEAD", "/good-name").status, 404);
  Result other = Call("PUT", "/good-name",
                      "<CreateBucketConfiguration><LocationConstraint>eu-west-1"
                      "</LocationConstraint></CreateBucketConfiguration>");
  EXPECT_EQ(other.Code(), "IllegalLocationConstraintException");
  EXPECT_EQ(Call("PUT", "/good-name",
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>local</LocationConstraint></CreateBucketConfiguration>")
                .status,
            200);
}

TEST_F(S3ApiTest, PutGetRangesAndConditionals) {
  MakeBucket("bkt");
  std::string data = "hello world";
  Result put = Call("PUT", "/bkt/dir/hello%20there.txt", data,
                    {{"content-type", "text/plain"},
                     {"x-amz-meta-color", "blue"},
                     {"content-md5", Base64Encode(Md5(data))},
                     {"x-amz-checksum-crc32", CrcToBase64(Crc32Update(0, data))}});
  ASSERT_EQ(put.status, 200) << put.body;
  std::string etag = "\"" + HexEncode(Md5(data)) + "\"";
  EXPECT_EQ(put.Header("ETag"), etag);
  EXPECT_EQ(put.Header("x-amz-checksum-crc32"), CrcToBase64(Crc32Update(0, data)));

  Result get = Call("GET", "/bkt/dir/hello%20there.txt", "", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, data);
  EXPECT_EQ(get.Header("ETag"), etag);
  EXPECT_EQ(get.Header("Content-Type"), "text/plain");
  EXPECT_EQ(get.Header("x-amz-meta-color"), "blue");
  EXPECT_EQ(get.Header("Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(get.Header("x-amz-checksum-crc32"), CrcToBase64(Crc32Update(0, data)));

  Result head = Call("HEAD", "/bkt/dir/hello%20there.txt");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.head_length, 11u);
  EXPECT_EQ(head.body, "");

  struct Case {
    std::string range, body, content_range;
  };
  for (const Case& c :
       {Case{"bytes=0-4", "hello", "bytes 0-4/11"}, Case{"bytes=6-", "world", "bytes 6-10/11"},
        Case{"bytes=-5", "world", "bytes 6-10/11"},
        Case{"bytes=3-100", "lo world", "bytes 3-10/11"}}) {
    Result r = Call("GET", "/bkt/dir/hello%20there.txt", "", {{"range", c.range}});
    EXPECT_EQ(r.status, 206) << c.range;
    EXPECT_EQ(r.body, c.body) << c.range;
    EXPECT_EQ(r.Header("Content-Range"), c.content_range);
  }
  Result unsat = Call("GET", "/bkt/dir/hello%20there.txt", "", {{"range", "bytes=11-"}});
  EXPECT_EQ(unsat.status, 416);
  EXPECT_EQ(unsat.Code(), "InvalidRange");

  EXPECT_EQ(Call("GET", "/bkt/dir/hello%20there.txt", "", {{"if-none-match", etag}}).status, 304);
  EXPECT_EQ(Call("GET", "/bkt/dir/hello%20there.txt", "", {{"if-match", "\"nope\""}}).status, 412);
  Result missing = Call("GET", "/bkt/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Code(), "NoSuchKey");
  EXPECT_EQ(Call("HEAD", "/bkt/nope").status, 404);
}

TEST_F(S3ApiTest, CorruptUploadsAreRejectedAndInvisible) {
  MakeBucket("bkt");
  Result md5 = Call("PUT", "/bkt/k", "data", {{"content-md5", Base64Encode(Md5("other"))}});
  EXPECT_EQ(md5.Code(), "BadDigest");
  Result sha = Call("PUT", "/bkt/k", "data", {}, nullptr, Sha256Hex("other"));
  EXPECT_EQ(sha.Code(), "XAmzContentSHA256Mismatch");
  Result crc = Call("PUT", "/bkt/k", "data", {{"x-amz-checksum-crc32", CrcToBase64(7)}});
  EXPECT_EQ(crc.Code(), "BadDigest");
  EXPECT_EQ(Call("GET", "/bkt/k").status, 404);
  EXPECT_EQ(Call("PUT", "/bkt/k", "", {}, nullptr, std::string("UNSIGNED-PAYLOAD")).status, 200);
}

TEST_F(S3ApiTest, AwsChunkedUploadWithTrailer) {
  MakeBucket("bkt");
  std::string payload(3000, 'z');
  std::string crc = CrcToBase64(Crc32Update(0, payload));
  std::string body = "bb8\r\n" + payload + "\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
  Result put = Call("PUT", "/bkt/chunked", body,
                    {{"content-encoding", "aws-chunked"},
                     {"x-amz-decoded-content-length", "3000"},
                     {"x-amz-trailer", "x-amz-checksum-crc32"},
                     {"x-amz-sdk-checksum-algorithm", "CRC32"}},
                    nullptr, std::string(http::kStreamingUnsignedTrailer));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("x-amz-checksum-crc32"), crc);
  Result get = Call("GET", "/bkt/chunked");
  EXPECT_EQ(get.body, payload);
  EXPECT_EQ(get.Header("Content-Encoding"), "");
}

TEST_F(S3ApiTest, ListWithDelimiterAndPagination) {
  MakeBucket("bkt");
  for (std::string key : {"a/1", "a/2", "b/x/1", "b/y", "c", "d", "e/1"}) Put("/bkt/" + key, key);
  Result top = Call("GET", "/bkt?list-type=2&delimiter=%2F");
  EXPECT_THAT(top.body, HasSubstr("<KeyCount>5</KeyCount>"));
  EXPECT_THAT(top.body, HasSubstr("<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>"));
  EXPECT_THAT(top.body, HasSubstr("<Key>c</Key>"));
  EXPECT_THAT(top.body, Not(HasSubstr("<Key>a/1</Key>")));

  // Page through with max-keys=2: a/, b/ | c, d | e/.
  std::vector<std::string> pages;
  std::string token;
  for (int i = 0; i < 10; ++i) {
    std::string target = "/bkt?list-type=2&delimiter=%2F&max-keys=2";
    if (!token.empty()) target += "&continuation-token=" + http::UriEncode(token, false);
    Result r = Call("GET", target);
    ASSERT_EQ(r.status, 200) << r.body;
    pages.push_back(r.body);
    size_t a = r.body.find("<NextContinuationToken>");
    if (a == std::string::npos) break;
    size_t b = r.body.find("</NextContinuationToken>");
    token = r.body.substr(a + 23, b - a - 23);
  }
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_THAT(pages[0], HasSubstr("<Prefix>b/</Prefix>"));
  EXPECT_THAT(pages[0], HasSubstr("<IsTruncated>true</IsTruncated>"));
  EXPECT_THAT(pages[1], HasSubstr("<Key>c</Key>"));
  EXPECT_THAT(pages[1], HasSubstr("<Key>d</Key>"));
  EXPECT_THAT(pages[2], HasSubstr("<Prefix>e/</Prefix>"));
  EXPECT_THAT(pages[2], HasSubstr("<IsTruncated>false</IsTruncated>"));

  Result prefixed = Call("GET", "/bkt?list-type=2&prefix=b%2F&delimiter=%2F");
  EXPECT_THAT(prefixed.body, HasSubstr("<Prefix>b/x/</Prefix>"));
  EXPECT_THAT(prefixed.body, HasSubstr("<Key>b/y</Key>"));
  EXPECT_THAT(prefixed.body, HasSubstr("<KeyCount>2</KeyCount>"));

  Result v1 = Call("GET", "/bkt?marker=c&max-keys=2");
  EXPECT_THAT(v1.body, HasSubstr("<Key>d</Key><LastModified>"));
  EXPECT_THAT(v1.body, HasSubstr("<Key>e/1</Key>"));
  EXPECT_THAT(v1.body, HasSubstr("<IsTruncated>false</IsTruncated>"));
  Result after = Call("GET", "/bkt?list-type=2&start-after=d&encoding-type=url");
  EXPECT_THAT(after.body, HasSubstr("<Key>e/1</Key>"));
  EXPECT_THAT(after.body, HasSubstr("<KeyCount>1</KeyCount>"));
}

std::string Between(const std::string& s, const std::string& open, const std::string& close) {
  size_t a = s.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  return s.substr(a, s.find(close, a) - a);
}

TEST_F(S3ApiTest, MultipartUpload) {
  MakeBucket("bkt");
  Result init = Call("POST", "/bkt/big?uploads", "",
                     {{"content-type", "video/mp4"}, {"x-amz-checksum-algorithm", "CRC32"}});
  ASSERT_EQ(init.status, 200) << init.body;
  std::string id = Between(init.body, "<UploadId>", "</UploadId>");
  ASSERT_FALSE(id.empty());
  std::string parts[] = {"aaaaaaa", "bbbbbbbb", "cc"};
  std::string etags[3];
  for (int i = 2; i >= 0; --i) {  // any upload order
    Result p = Call("PUT", "/bkt/big?partNumber=" + std::to_string(i + 1) + "&uploadId=" + id,
                    parts[i], {{"x-amz-checksum-crc32", CrcToBase64(Crc32Update(0, parts[i]))}});
    ASSERT_EQ(p.status, 200) << p.body;
    etags[i] = p.Header("ETag");
  }
  EXPECT_EQ(Call("PUT", "/bkt/big?partNumber=10001&uploadId=" + id, "x").Code(), "InvalidArgument");
  EXPECT_EQ(Call("PUT", "/bkt/big?partNumber=1&uploadId=nope", "x").Code(), "NoSuchUpload");
  Result listed = Call("GET", "/bkt/big?uploadId=" + id);
  EXPECT_THAT(listed.body, HasSubstr("<PartNumber>3</PartNumber>"));
  EXPECT_THAT(Call("GET", "/bkt?uploads").body, HasSubstr("<UploadId>" + id + "</UploadId>"));
  EXPECT_EQ(Call("DELETE", "/bkt").Code(), "BucketNotEmpty");

  auto complete_xml = [&](std::vector<int> order, std::string bad_etag = "") {
    std::string xml = "<CompleteMultipartUpload>";
    for (int n : order) {
      std::string etag = bad_etag.empty() ? etags[n - 1] : bad_etag;
      xml += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + etag +
             "</ETag></Part>";
    }
    return xml + "</CompleteMultipartUpload>";
  };
  std::string target = "/bkt/big?uploadId=" + id;
  EXPECT_EQ(Call("POST", target, complete_xml({2, 1, 3})).Code(), "InvalidPartOrder");
  EXPECT_EQ(Call("POST", target, complete_xml({1, 2}, "\"00\"")).Code(), "InvalidPart");
  EXPECT_EQ(Call("POST", target, complete_xml({3, 1}) + "x").Code(), "MalformedXML");
  EXPECT_EQ(Call("POST", target, complete_xml({1, 3, 2})).Code(), "InvalidPartOrder");
  EXPECT_EQ(Call("POST", target, complete_xml({3, 4})).Code(), "InvalidPart");
  // Part 3 (2 bytes) is below the minimum and not last.
  EXPECT_EQ(Call("POST", "/bkt/big?uploadId=" + id,
                 "<CompleteMultipartUpload><Part><PartNumber>3"
                 "</PartNumber><ETag>" +
                     etags[2] +
                     "</ETag></Part><Part><PartNumber>4"
                     "</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>")
                .Code(),
            "InvalidPart");
  EXPECT_EQ(Call("GET", "/bkt/big").status, 404);

  Result done = Call("POST", target, complete_xml({1, 2, 3}));
  ASSERT_EQ(done.status, 200) << done.body;
  std::string md5s = Md5(parts[0]) + Md5(parts[1]) + Md5(parts[2]);
  std::string etag = "\"" + HexEncode(Md5(md5s)) + "-3\"";
  EXPECT_THAT(done.body, HasSubstr("<ETag>" + etag.substr(0, 1)));
  EXPECT_THAT(done.body, HasSubstr(HexEncode(Md5(md5s)) + "-3"));
  Result get = Call("GET", "/bkt/big");
  EXPECT_EQ(get.body, "aaaaaaabbbbbbbbcc");
  EXPECT_EQ(get.Header("ETag"), etag);
  EXPECT_EQ(get.Header("Content-Type"), "video/mp4");
  EXPECT_EQ(Call("GET", "/bkt/big", "", {{"range", "bytes=5-9"}}).body, "aabbb");
  EXPECT_EQ(Call("GET", target).Code(), "NoSuchUpload");

  // Too-small part that is not the last.
  Result init2 = Call("POST", "/bkt/small?uploads");
  std::string id2 = Between(init2.body, "<UploadId>", "</UploadId>");
  Result p1 = Call("PUT", "/bkt/small?partNumber=1&uploadId=" + id2, "abc");
  Result p2 = Call("PUT", "/bkt/small?partNumber=2&uploadId=" + id2, "defgh");
  Result small =
      Call("POST", "/bkt/small?uploadId=" + id2,
           "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + p1.Header("ETag") +
               "</ETag></Part><Part><PartNumber>2</PartNumber>"
               "<ETag>" +
               p2.Header("ETag") + "</ETag></Part></CompleteMultipartUpload>");
  EXPECT_EQ(small.Code(), "EntityTooSmall");
  EXPECT_EQ(Call("DELETE", "/bkt/small?uploadId=" + id2).status, 204);
  EXPECT_EQ(Call("DELETE", "/bkt/small?uploadId=" + id2).Code(), "NoSuchUpload");
}

TEST_F(S3ApiTest, CopyAndDeleteObjects) {
  MakeBucket("src");
  MakeBucket("dst");
  Put("/src/a%2Fb c", "payload");
  Result copy = Call("PUT", "/dst/copy", "", {{"x-amz-copy-source", "/src/a%2Fb%20c"}});
  ASSERT_EQ(copy.status, 200) << copy.body;
  EXPECT_THAT(copy.body, HasSubstr("<CopyObjectResult"));
  EXPECT_EQ(Call("GET", "/dst/copy").body, "payload");
  EXPECT_EQ(Call("PUT", "/dst/x", "", {{"x-amz-copy-source", "src/missing"}}).Code(), "NoSuchKey");
  EXPECT_EQ(Call("PUT", "/dst/copy", "", {{"x-amz-copy-source", "dst/copy"}}).Code(),
            "InvalidRequest");
  Result replaced = Call("PUT", "/dst/copy", "",
                         {{"x-amz-copy-source", "dst/copy"},
                          {"x-amz-metadata-directive", "REPLACE"},
                          {"content-type", "text/csv"}});
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(Call("HEAD", "/dst/copy").Header("Content-Type"), "text/csv");
  ASSERT_EQ(Call("PUT", "/bobs-dst", "", {}, &bob_).status, 200);
  Result denied = Call("PUT", "/bobs-dst/x", "", {{"x-amz-copy-source", "src/a%2Fb%20c"}}, &bob_);
  EXPECT_EQ(denied.Code(), "AccessDenied");
  EXPECT_EQ(Call("GET", "/bobs-dst/x", "", {}, &bob_).status, 404);

  Put("/dst/k1", "1");
  Put("/dst/k2", "2");
  std::string xml =
      "<Delete><Object><Key>k1</Key></Object><Object><Key>k2</Key></Object>"
      "<Object><Key>never</Key></Object></Delete>";
  Result del = Call("POST", "/dst?delete", xml, {{"content-md5", Base64Encode(Md5(xml))}});
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_THAT(del.body, HasSubstr("<Deleted><Key>k1</Key></Deleted>"));
  EXPECT_THAT(del.body, HasSubstr("<Deleted><Key>never</Key></Deleted>"));
  EXPECT_EQ(Call("GET", "/dst/k1").status, 404);
  Result quiet = Call("POST", "/dst?delete",
                      "<Delete><Quiet>true</Quiet><Object><Key>copy</Key>"
                      "</Object></Delete>");
  EXPECT_THAT(quiet.body, Not(HasSubstr("<Deleted>")));
  EXPECT_EQ(Call("POST", "/dst?delete", "<Delete><Object>").Code(), "MalformedXML");
  Result bad_md5 = Call("POST", "/dst?delete", xml, {{"content-md5", Base64Encode(Md5("x"))}});
  EXPECT_EQ(bad_md5.Code(), "BadDigest");
  EXPECT_EQ(Call("DELETE", "/dst").status, 204);
}

TEST_F(S3ApiTest, AuthenticationAndAuthorizationErrors) {
  MakeBucket("private");
  Put("/private/secret", "s");
  Result wrong = Call("GET", "/private/secret", "", {}, nullptr, std::nullopt, "wrong-secret");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.Code(), "SignatureDoesNotMatch");
  auth::NewAccountCredentials ghost = alice_;
  ghost.access_key.key.id = "AKIAUNKNOWNUNKNOWN00";
  Result unknown = Call("GET", "/private/secret", "", {}, &ghost);
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(unknown.Code(), "InvalidAccessKeyId");
  Result other = Call("GET", "/private/secret", "", {}, &bob_);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(other.Code(), "AccessDenied");
  EXPECT_EQ(Call("PUT", "/private/secret", "overwrite", {}, &bob_).Code(), "AccessDenied");
  EXPECT_EQ(Call("GET", "/private/secret").body, "s");
  EXPECT_EQ(Call("GET", "/private?acl").Code(), "NotImplemented");
  EXPECT_EQ(Call("POST", "/private/secret").Code(), "MethodNotAllowed");
}

TEST_F(S3ApiTest, GarbageCollectionKeepsReferencedAndRecentBlobs) {
  MakeBucket("bkt");
  Put("/bkt/keep", "kept bytes");
  Put("/bkt/drop", "dropped bytes");
  Put("/bkt/copy-src", "shared bytes");
  ASSERT_EQ(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt/copy-src"}}).status, 200);
  ASSERT_EQ(Call("DELETE", "/bkt/drop").status, 204);
  ASSERT_EQ(Call("DELETE", "/bkt/copy-src").status, 204);
  auto before = blobs_.List().value();
  EXPECT_EQ(before.size(), 3u);

  auto early = s3_->CollectGarbage();  // within the grace period: nothing goes
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->deleted, 0u);
  clock_.Advance(absl::Hours(2));
  auto gc = s3_->CollectGarbage();
  ASSERT_TRUE(gc.ok()) << gc.status();
  EXPECT_EQ(gc->deleted, 1u);
  EXPECT_EQ(blobs_.List().value().size(), 2u);
  EXPECT_EQ(Call("GET", "/bkt/keep").body, "kept bytes");
  EXPECT_EQ(Call("GET", "/bkt/copy").body, "shared bytes");
  // Re-uploading deleted content works (the blob is written again).
  Put("/bkt/again", "dropped bytes");
  EXPECT_EQ(Call("GET", "/bkt/again").body, "dropped bytes");
}

}  // namespace
}  // namespace mercato::api::s3
