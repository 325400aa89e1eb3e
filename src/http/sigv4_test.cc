// Tests for SigV4: the AWS test suite, the S3 documentation examples (header, presigned,
// aws-chunked with and without trailers) and requests signed by botocore
// (testdata/botocore_signed.json, written by testdata/make_botocore_fixtures.py).
#include "http/sigv4.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/time_format.h"
#include "gtest/gtest.h"

#ifndef MERCATO_SIGV4_TESTDATA
#error "MERCATO_SIGV4_TESTDATA must name src/http/testdata"
#endif

namespace mercato::http {
namespace {

std::string Testdata(const std::string& name) {
  std::ifstream in(std::string(MERCATO_SIGV4_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string AwsCode(const absl::Status& s) { return AwsCodeOf(s).value_or("<none>"); }

Request MakeRequest(std::string method, std::string target, const Headers& headers) {
  Request r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.raw_path = target.substr(0, q);
  r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  r.path = r.raw_path;
  for (const auto& [k, v] : headers) r.headers.emplace_back(Lower(k), v);
  return r;
}

absl::Time AmzTime(std::string_view s) { return ParseAmzDate(s).value(); }

// A body served in pieces of at most `step` bytes, to exercise partial reads.
class StringReader final : public BodyReader {
 public:
  explicit StringReader(std::string data, size_t step = 1 << 20)
      : data_(std::move(data)), step_(step) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min({n, step_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, take, buf);
    pos_ += take;
    return take;
  }
  std::optional<uint64_t> content_length() const override { return data_.size(); }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

// Decodes everything, reading `buf_size` bytes at a time.
absl::StatusOr<std::string> DecodeAll(AwsChunkedReader& reader, size_t buf_size) {
  std::string out;
  std::string buf(buf_size, '\0');
  for (int i = 0; i < 10'000'000; ++i) {
    absl::StatusOr<size_t> n = reader.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
  return absl::InternalError("reader never ended");
}

// ---------------------------------------------------------------------------------------------
// AWS Signature Version 4 test suite.

struct SuiteVector {
  std::string name;
  std::map<std::string, std::string> sections;
};

std::vector<SuiteVector> LoadSuite() {
  std::vector<SuiteVector> out;
  std::string current;
  std::istringstream in(Testdata("aws4_testsuite.txt"));
  std::string line;
  std::vector<std::string> lines;
  auto flush = [&] {
    if (out.empty() || current.empty()) return;
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::string text;
    for (size_t i = 0; i < lines.size(); ++i) text += (i ? "\n" : "") + lines[i];
    out.back().sections[current] = text;
    lines.clear();
  };
  while (std::getline(in, line)) {
    if (line.rfind("=== ", 0) == 0) {
      flush();
      current.clear();
      out.push_back({line.substr(4), {}});
    } else if (line.rfind("--- ", 0) == 0) {
      flush();
      current = line.substr(4);
    } else if (!current.empty()) {
      lines.push_back(line);
    }
  }
  flush();
  return out;
}

// "GET /path HTTP/1.1\nName:value\n...\n\nbody" → request and body. The target may contain
// spaces (get-space), so it runs to the last " HTTP/1.1".
Request ParseRawRequest(const std::string& raw, std::string* body) {
  size_t blank = raw.find("\n\n");
  std::string head = raw.substr(0, blank);
  *body = blank == std::string::npos ? "" : raw.substr(blank + 2);
  std::istringstream in(head);
  std::string first;
  std::getline(in, first);
  size_t sp = first.find(' ');
  size_t proto = first.rfind(" HTTP/");
  Headers headers;
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return MakeRequest(first.substr(0, sp), first.substr(sp + 1, proto - sp - 1), headers);
}

constexpr std::string_view kSuiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

TEST(SigV4Suite, AllVectors) {
  std::vector<SuiteVector> vectors = LoadSuite();
  ASSERT_GE(vectors.size(), 29u);
  int resigned = 0;
  for (const SuiteVector& v : vectors) {
    SCOPED_TRACE(v.name);
    std::string body;
    Request request = ParseRawRequest(v.sections.at("request"), &body);
    request.headers.emplace_back("authorization", v.sections.at("authorization"));
    ASSERT_TRUE(HasSigV4(request));
    absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
    ASSERT_TRUE(auth.ok()) << auth.status();
    EXPECT_EQ(auth->access_key_id, "AKIDEXAMPLE");
    EXPECT_EQ(auth->service, "service");
    EXPECT_TRUE(auth->content_sha256.empty());

    std::string creq =
        CanonicalRequest(request, auth->signed_headers, Sha256Hex(body), false, false);
    EXPECT_EQ(creq, v.sections.at("canonical-request"));
    EXPECT_EQ(StringToSign(auth->amz_date, "20150830/us-east-1/service/aws4_request", creq),
              v.sections.at("string-to-sign"));
    absl::Time now = AmzTime("20150830T123600Z");
    EXPECT_TRUE(VerifySigV4(request, *auth, kSuiteSecret, Sha256Hex(body), now).ok());
    EXPECT_EQ(AwsCode(VerifySigV4(request, *auth, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz",
                                  Sha256Hex(body), now)),
              "SignatureDoesNotMatch");

    // Signing the same request reproduces the vector when every header is signed.
    request.headers.pop_back();
    std::vector<std::string> all;
    for (const auto& [k, value] : request.headers) all.push_back(k);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    if (all == auth->signed_headers) {
      SignRequest(request, "AKIDEXAMPLE", kSuiteSecret, "us-east-1", "service", Sha256Hex(body),
                  now);
      EXPECT_EQ(request.Header("authorization"), v.sections.at("authorization"));
      ++resigned;
    }
  }
  EXPECT_GE(resigned, 25);
}

// ---------------------------------------------------------------------------------------------
// S3 documentation examples (sig-v4-header-based-auth, sigv4-query-string-auth).

constexpr std::string_view kS3Key = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kS3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kS3Date = "20130524T000000Z";
constexpr std::string_view kEmpty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct S3Example {
  std::string name, method, target;
  Headers headers;
  std::string body, signed_headers, signature;
};

std::vector<S3Example> S3Examples() {
  std::string put_hash = Sha256Hex("Welcome to Amazon S3.");
  return {
      {"get-object",
       "GET",
       "/test.txt",
       {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}},
       "",
       "host;range;x-amz-content-sha256;x-amz-date",
       "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
      {"put-object",
       "PUT",
       "/test$file.text",
       {{"Host", "examplebucket.s3.amazonaws.com"},
        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
       "Welcome to Amazon S3.",
       "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
       "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
      {"get-bucket-lifecycle",
       "GET",
       "/?lifecycle",
       {{"Host", "examplebucket.s3.amazonaws.com"}},
       "",
       "host;x-amz-content-sha256;x-amz-date",
       "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
      {"list-objects",
       "GET",
       "/?max-keys=2&prefix=J",
       {{"Host", "examplebucket.s3.amazonaws.com"}},
       "",
       "host;x-amz-content-sha256;x-amz-date",
       "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
  };
}

TEST(SigV4S3Docs, HeaderExamplesSignAndVerify) {
  for (const S3Example& ex : S3Examples()) {
    SCOPED_TRACE(ex.name);
    Request request = MakeRequest(ex.method, ex.target, ex.headers);
    std::string hash = Sha256Hex(ex.body);
    SignRequest(request, kS3Key, kS3Secret, "us-east-1", "s3", hash, AmzTime(kS3Date));
    EXPECT_EQ(request.Header("authorization"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request, SignedHeaders=" +
                  ex.signed_headers + ", Signature=" + ex.signature);
    EXPECT_EQ(request.Header("x-amz-content-sha256"), hash);

    absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
    ASSERT_TRUE(auth.ok()) << auth.status();
    EXPECT_EQ(auth->content_sha256, hash);
    EXPECT_EQ(auth->scope_date, "20130524");
    EXPECT_TRUE(VerifySigV4(request, *auth, kS3Secret, hash, AmzTime(kS3Date)).ok());
  }
}

// The S3 docs write the header with commas and no spaces; that parses the same.
TEST(SigV4S3Docs, CompactAuthorizationHeader) {
  Request request = MakeRequest(
      "GET", "/test.txt",
      {{"Host", "examplebucket.s3.amazonaws.com"},
       {"Range", "bytes=0-9"},
       {"x-amz-content-sha256", std::string(kEmpty)},
       {"x-amz-date", std::string(kS3Date)},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"}});
  absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
  ASSERT_TRUE(auth.ok()) << auth.status();
  SigningKeyCache cache;
  EXPECT_TRUE(VerifySigV4(request, *auth, kS3Secret, kEmpty, AmzTime(kS3Date), &cache).ok());
  EXPECT_TRUE(VerifySigV4(request, *auth, kS3Secret, kEmpty, AmzTime(kS3Date), &cache).ok());
}

Request PresignedExample() {
  return MakeRequest(
      "GET",
      "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%"
      "2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires="
      "86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      {{"Host", "examplebucket.s3.amazonaws.com"}});
}

TEST(SigV4S3Docs, PresignedUrl) {
  Request request = PresignedExample();
  ASSERT_TRUE(HasSigV4(request));
  absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE(auth->presigned);
  EXPECT_EQ(auth->expires_seconds, 86400);
  EXPECT_EQ(auth->content_sha256, kUnsignedPayload);
  EXPECT_EQ(CanonicalRequest(request, auth->signed_headers, kUnsignedPayload, true, true),
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
            "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  absl::Time t = AmzTime(kS3Date);
  EXPECT_TRUE(VerifySigV4(request, *auth, kS3Secret, kUnsignedPayload, t + absl::Hours(1)).ok());
  EXPECT_TRUE(
      VerifySigV4(request, *auth, kS3Secret, kUnsignedPayload, t + absl::Seconds(86400)).ok());

  absl::Status expired =
      VerifySigV4(request, *auth, kS3Secret, kUnsignedPayload, t + absl::Seconds(86401));
  EXPECT_EQ(AwsCode(expired), "AccessDenied");
  EXPECT_EQ(expired.message(), "Request has expired");
  EXPECT_EQ(expired.code(), absl::StatusCode::kPermissionDenied);

  absl::Status early =
      VerifySigV4(request, *auth, kS3Secret, kUnsignedPayload, t - absl::Minutes(16));
  EXPECT_EQ(AwsCode(early), "AccessDenied");

  Request tampered = request;
  tampered.raw_path = "/test.txu";
  EXPECT_EQ(AwsCode(VerifySigV4(tampered, *auth, kS3Secret, kUnsignedPayload, t)),
            "SignatureDoesNotMatch");
}

// ---------------------------------------------------------------------------------------------
// S3 documentation: aws-chunked uploads (sigv4-streaming, sigv4-streaming-trailers).

constexpr std::string_view kSeed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr std::string_view kChunkSigs[] = {
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"};
constexpr std::string_view kTrailerSeed =
    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
constexpr std::string_view kTrailerChunkSigs[] = {
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"};
constexpr std::string_view kTrailerSignature =
    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

Request StreamingExample(bool trailer) {
  Headers headers = {
      {"Host", "s3.amazonaws.com"},
      {"x-amz-date", std::string(kS3Date)},
      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
      {"x-amz-content-sha256", std::string(trailer ? kStreamingSignedTrailer : kStreamingSigned)},
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-decoded-content-length", "66560"},
      {"Content-Length", "66824"}};
  std::string signed_headers =
      "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
      "x-amz-decoded-content-length;x-amz-storage-class";
  if (trailer) {
    headers.emplace_back("x-amz-trailer", "x-amz-checksum-crc32c");
    signed_headers =
        "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        "x-amz-storage-class;x-amz-trailer";
  }
  headers.emplace_back("Authorization",
                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                       "aws4_request,SignedHeaders=" +
                           signed_headers +
                           ",Signature=" + std::string(trailer ? kTrailerSeed : kSeed));
  return MakeRequest("PUT", "/examplebucket/chunkObject.txt", headers);
}

std::string StreamingBody(const std::string_view (&sigs)[3], std::string_view trailers) {
  std::string body;
  body +=
      "10000;chunk-signature=" + std::string(sigs[0]) + "\r\n" + std::string(65536, 'a') + "\r\n";
  body += "400;chunk-signature=" + std::string(sigs[1]) + "\r\n" + std::string(1024, 'a') + "\r\n";
  body += "0;chunk-signature=" + std::string(sigs[2]) + "\r\n\r\n";
  body += trailers;
  return body;
}

TEST(SigV4Chunked, DocExampleDecodesAndVerifies) {
  Request request = StreamingExample(false);
  absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
  ASSERT_TRUE(auth.ok()) << auth.status();
  ASSERT_EQ(auth->content_sha256, kStreamingSigned);
  ASSERT_TRUE(VerifySigV4(request, *auth, kS3Secret, kStreamingSigned, AmzTime(kS3Date)).ok());
  std::string key = DeriveSigningKey(kS3Secret, "20130524", "us-east-1", "s3");
  std::string body = StreamingBody(kChunkSigs, "");
  ASSERT_EQ(body.size(), 66824u);
  for (size_t step : {1u << 20, 4096u, 7u}) {
    for (size_t buf : {1u << 17, 1000u, 1u}) {
      if (step == 7 && buf == 1) continue;  // slow and adds nothing over the others
      SCOPED_TRACE(testing::Message() << "step " << step << " buf " << buf);
      StringReader inner(body, step);
      AwsChunkedReader reader(inner, *auth, key, 66560);
      EXPECT_EQ(reader.content_length(), 66560u);
      absl::StatusOr<std::string> decoded = DecodeAll(reader, buf);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(*decoded, std::string(66560, 'a'));
    }
  }
}

absl::Status DecodeStatus(const std::string& body, const SigV4Auth& auth, std::string key,
                          std::optional<uint64_t> length) {
  StringReader inner(body, 5000);
  AwsChunkedReader reader(inner, auth, std::move(key), length);
  return DecodeAll(reader, 3000).status();
}

TEST(SigV4Chunked, CorruptionIsDetected) {
  Request request = StreamingExample(false);
  SigV4Auth auth = ParseSigV4(request).value();
  std::string key = DeriveSigningKey(kS3Secret, "20130524", "us-east-1", "s3");
  std::string body = StreamingBody(kChunkSigs, "");

  std::string bad_sig = body;
  bad_sig[body.find("chunk-signature=0055") + 17] = 'f';
  EXPECT_EQ(AwsCode(DecodeStatus(bad_sig, auth, key, 66560)), "SignatureDoesNotMatch");

  std::string bad_data = body;
  bad_data[66000] = 'b';  // inside the second chunk
  absl::Status s = DecodeStatus(bad_data, auth, key, 66560);
  EXPECT_EQ(AwsCode(s), "SignatureDoesNotMatch");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);

  std::string no_sig = body;
  no_sig.replace(0, 5 + 1 + 16 + 64, "10000");
  EXPECT_EQ(AwsCode(DecodeStatus(no_sig, auth, key, 66560)), "SignatureDoesNotMatch");

  EXPECT_EQ(AwsCode(DecodeStatus(body.substr(0, 40000), auth, key, 66560)), "IncompleteBody");
  EXPECT_EQ(AwsCode(DecodeStatus(body, auth, key, 66561)), "IncompleteBody");
  EXPECT_EQ(AwsCode(DecodeStatus(body, auth, key, 1000)), "IncompleteBody");

  SigV4Auth other_seed = auth;
  other_seed.signature[0] = '5';
  EXPECT_EQ(AwsCode(DecodeStatus(body, other_seed, key, 66560)), "SignatureDoesNotMatch");

  // A chunk larger than 16 MiB is refused from its header, before any data is buffered.
  std::string huge = "1000001;chunk-signature=" + std::string(kChunkSigs[0]) + "\r\n";
  absl::Status too_big = DecodeStatus(huge, auth, key, std::nullopt);
  EXPECT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AwsCode(DecodeStatus("zz;chunk-signature=x\r\n", auth, key, std::nullopt)),
            "InvalidRequest");

  // Errors are sticky.
  StringReader inner(bad_sig, 1 << 20);
  AwsChunkedReader reader(inner, auth, key, 66560);
  EXPECT_FALSE(DecodeAll(reader, 1 << 20).ok());
  char c;
  EXPECT_FALSE(reader.Read(&c, 1).ok());
}

TEST(SigV4Chunked, SignedTrailerDocExample) {
  Request request = StreamingExample(true);
  SigV4Auth auth = ParseSigV4(request).value();
  EXPECT_EQ(auth.amz_trailer, "x-amz-checksum-crc32c");
  ASSERT_TRUE(
      VerifySigV4(request, auth, kS3Secret, kStreamingSignedTrailer, AmzTime(kS3Date)).ok());
  std::string key = DeriveSigningKey(kS3Secret, "20130524", "us-east-1", "s3");
  std::string trailers = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" +
                         std::string(kTrailerSignature) + "\r\n";
  std::string body = StreamingBody(kTrailerChunkSigs, trailers);
  StringReader inner(body, 3333);
  AwsChunkedReader reader(inner, auth, key, 66560);
  absl::StatusOr<std::string> decoded = DecodeAll(reader, 8192);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, std::string(66560, 'a'));
  EXPECT_EQ(reader.trailers(), (Headers{{"x-amz-checksum-crc32c", "sOO8/Q=="}}));

  // The trailer signature covers the checksum value.
  std::string changed = body;
  changed[changed.find("sOO8") + 1] = 'P';
  EXPECT_EQ(AwsCode(DecodeStatus(changed, auth, key, 66560)), "SignatureDoesNotMatch");
  std::string unsigned_trailer =
      StreamingBody(kTrailerChunkSigs, "x-amz-checksum-crc32c:sOO8/Q==\r\n");
  EXPECT_EQ(AwsCode(DecodeStatus(unsigned_trailer, auth, key, 66560)), "SignatureDoesNotMatch");
}

std::string UnsignedChunked(std::string_view payload, std::string_view trailer) {
  std::string body;
  for (size_t pos = 0; pos < payload.size(); pos += 1000) {
    std::string_view piece = payload.substr(pos, 1000);
    char size[16];
    snprintf(size, sizeof size, "%zx", piece.size());
    body += std::string(size) + "\r\n" + std::string(piece) + "\r\n";
  }
  body += "0\r\n" + std::string(trailer) + "\r\n";
  return body;
}

TEST(SigV4Chunked, UnsignedTrailerChecksums) {
  std::string payload;
  for (int i = 0; i < 2500; ++i) payload += static_cast<char>('0' + i % 43);
  SigV4Auth auth;
  auth.content_sha256 = std::string(kStreamingUnsignedTrailer);
  struct Case {
    std::string name, value;
  };
  const Case cases[] = {
      {"x-amz-checksum-crc32", CrcToBase64(Crc32Update(0, payload))},
      {"x-amz-checksum-crc32c", CrcToBase64(Crc32cUpdate(0, payload))},
      {"x-amz-checksum-sha256", Base64Encode(Sha256(payload))},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auth.amz_trailer = c.name;
    std::string good = UnsignedChunked(payload, c.name + ":" + c.value + "\r\n");
    StringReader inner(good, 777);
    AwsChunkedReader reader(inner, auth, "", payload.size());
    absl::StatusOr<std::string> decoded = DecodeAll(reader, 512);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, payload);
    EXPECT_EQ(reader.trailers(), (Headers{{c.name, c.value}}));

    std::string wrong = c.value;
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    absl::Status bad = DecodeStatus(UnsignedChunked(payload, c.name + ":" + wrong + "\r\n"), auth,
                                    "", std::nullopt);
    EXPECT_EQ(AwsCode(bad), "BadDigest");
    EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(bad.message().find("did not match the calculated checksum"), std::string::npos);

    // A checksum announced in x-amz-trailer must arrive.
    EXPECT_EQ(AwsCode(DecodeStatus(UnsignedChunked(payload, ""), auth, "", std::nullopt)),
              "MalformedTrailerError");
  }
  auth.amz_trailer = "x-amz-checksum-sha1";
  EXPECT_EQ(AwsCode(DecodeStatus(
                UnsignedChunked(payload, "x-amz-checksum-sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"),
                auth, "", std::nullopt)),
            "BadDigest");
}

// ---------------------------------------------------------------------------------------------
// Skew and malformed input.

Request SignedGet(absl::Time t) {
  Request request = MakeRequest("GET", "/bucket/key", {{"Host", "127.0.0.1:8600"}});
  SignRequest(request, "AKID", "secret", "us-east-1", "s3", kEmpty, t);
  return request;
}

TEST(SigV4Verify, ClockSkew) {
  absl::Time t = AmzTime("20260101T120000Z");
  Request request = SignedGet(t);
  SigV4Auth auth = ParseSigV4(request).value();
  EXPECT_TRUE(VerifySigV4(request, auth, "secret", kEmpty, t + absl::Minutes(14)).ok());
  EXPECT_TRUE(VerifySigV4(request, auth, "secret", kEmpty, t - absl::Minutes(14)).ok());
  for (absl::Duration d : {absl::Minutes(16), -absl::Minutes(16), absl::Hours(48)}) {
    absl::Status s = VerifySigV4(request, auth, "secret", kEmpty, t + d);
    EXPECT_EQ(AwsCode(s), "RequestTimeTooSkewed");
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  }
  absl::Status mismatch = VerifySigV4(request, auth, "secreT", kEmpty, t);
  EXPECT_EQ(AwsCode(mismatch), "SignatureDoesNotMatch");
  EXPECT_EQ(mismatch.message(),
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.");
}

TEST(SigV4Parse, MalformedAuthorizationHeader) {
  const std::string good_cred = "Credential=AKID/20260101/us-east-1/s3/aws4_request";
  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::string bad[] = {
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA256 " + good_cred,
      "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host",
      "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3, SignedHeaders=host, " + sig,
      "AWS4-HMAC-SHA256 Credential=AKID/2026011/us-east-1/s3/aws4_request, SignedHeaders=host, " +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws5_request, SignedHeaders=host, " +
          sig,
      "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=, " + sig,
      "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host;;x-amz-date, " + sig,
      "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host, Signature=abc",
      "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host, Signature=" + std::string(64, 'g'),
      "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host, " + sig + ", Extra=1",
      "AWS4-HMAC-SHA256 " + good_cred + " SignedHeaders=host " + sig,
      "AWS4-HMAC-SHA256X " + good_cred + ", SignedHeaders=host, " + sig,
      // Credential date differs from X-Amz-Date.
      "AWS4-HMAC-SHA256 Credential=AKID/20251231/us-east-1/s3/aws4_request, SignedHeaders=host, " +
          sig,
  };
  for (const std::string& value : bad) {
    SCOPED_TRACE(value);
    Request request = MakeRequest(
        "GET", "/", {{"Host", "h"}, {"x-amz-date", "20260101T000000Z"}, {"Authorization", value}});
    absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(AwsCode(auth.status()), "AuthorizationHeaderMalformed");
    EXPECT_EQ(auth.status().code(), absl::StatusCode::kInvalidArgument);
  }
  Request ok = MakeRequest(
      "GET", "/",
      {{"Host", "h"},
       {"x-amz-date", "20260101T000000Z"},
       {"Authorization", "AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host, " + sig}});
  EXPECT_TRUE(ParseSigV4(ok).ok());

  Request no_date = ok;
  no_date.headers.erase(no_date.headers.begin() + 1);
  EXPECT_EQ(AwsCode(ParseSigV4(no_date).status()), "AccessDenied");

  Request bad_sha = ok;
  bad_sha.headers.emplace_back("x-amz-content-sha256", "not-a-hash");
  EXPECT_EQ(AwsCode(ParseSigV4(bad_sha).status()), "InvalidArgument");

  Request v2 = MakeRequest("GET", "/", {{"Host", "h"}, {"Authorization", "AWS AKID:sig"}});
  EXPECT_FALSE(HasSigV4(v2));
  EXPECT_FALSE(HasSigV4(MakeRequest("GET", "/?a=b", {{"Host", "h"}})));
}

TEST(SigV4Parse, MalformedQuery) {
  const std::string base =
      "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%"
      "2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" +
      std::string(64, 'b');
  EXPECT_TRUE(ParseSigV4(MakeRequest("GET", base + "&X-Amz-Expires=60", {{"Host", "h"}})).ok());
  const std::string bad[] = {
      base,  // no X-Amz-Expires
      base + "&X-Amz-Expires=0",
      base + "&X-Amz-Expires=604801",
      base + "&X-Amz-Expires=abc",
      base + "&X-Amz-Expires=-5",
      "/k?X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%"
      "2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-"
      "Signature=" +
          std::string(64, 'b'),
      "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260102%2Fus-east-1%2Fs3%"
      "2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-"
      "Signature=" +
          std::string(64, 'b'),
      "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID&X-Amz-Date=20260101T000000Z&X-"
      "Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-Signature=" +
          std::string(64, 'b'),
      "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%"
      "2Faws4_request&X-Amz-Date=2026-01-01&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-"
      "Signature=" +
          std::string(64, 'b'),
  };
  for (const std::string& target : bad) {
    SCOPED_TRACE(target);
    absl::StatusOr<SigV4Auth> auth = ParseSigV4(MakeRequest("GET", target, {{"Host", "h"}}));
    ASSERT_FALSE(auth.ok());
    EXPECT_EQ(AwsCode(auth.status()), "AuthorizationQueryParametersError");
    EXPECT_EQ(auth.status().code(), absl::StatusCode::kInvalidArgument);
  }
  // Header and query together.
  Request both = MakeRequest("GET", base + "&X-Amz-Expires=60",
                             {{"Host", "h"}, {"Authorization", "AWS4-HMAC-SHA256 x"}});
  EXPECT_EQ(AwsCode(ParseSigV4(both).status()), "InvalidArgument");
}

// ---------------------------------------------------------------------------------------------
// Requests signed by botocore (testdata/make_botocore_fixtures.py).

TEST(SigV4Botocore, SignedRequestsVerify) {
  absl::StatusOr<Json> doc = ParseJson(Testdata("botocore_signed.json"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_GE((*doc)["fixtures"].size(), 8u);
  for (const Json& f : (*doc)["fixtures"]) {
    const std::string name = f["name"];
    SCOPED_TRACE(name);
    const std::string service = f["service"], secret = f["secret"];
    Headers headers;
    for (const Json& h : f["headers"]) headers.emplace_back(h[0], h[1]);
    std::string body = Base64Decode(f["body_b64"].get<std::string>()).value();
    Request request = MakeRequest(f["method"], f["target"], headers);
    ASSERT_TRUE(HasSigV4(request));
    absl::StatusOr<SigV4Auth> auth = ParseSigV4(request);
    ASSERT_TRUE(auth.ok()) << auth.status();
    EXPECT_EQ(auth->access_key_id, f["access_key"].get<std::string>());
    EXPECT_EQ(auth->service, service);
    EXPECT_EQ(auth->presigned, f.value("presigned", false));

    // What a server passes in: the body's hash unless the client sent a literal marker.
    bool hashed = auth->content_sha256.empty() || auth->content_sha256.size() == 64;
    std::string payload_hash = hashed ? Sha256Hex(body) : auth->content_sha256;
    if (auth->content_sha256.size() == 64) {
      EXPECT_EQ(auth->content_sha256, payload_hash);
    }
    EXPECT_EQ(CanonicalRequest(request, auth->signed_headers, payload_hash, auth->presigned,
                               service == "s3"),
              f["canonical_request"].get<std::string>());
    absl::Time now = AmzTime(f["amz_date"].get<std::string>()) + absl::Seconds(30);
    SigningKeyCache cache;
    EXPECT_TRUE(VerifySigV4(request, *auth, secret, payload_hash, now, &cache).ok());

    // One byte off anywhere breaks it.
    std::string bad_secret = secret;
    bad_secret[3] ^= 1;
    EXPECT_EQ(AwsCode(VerifySigV4(request, *auth, bad_secret, payload_hash, now, &cache)),
              "SignatureDoesNotMatch");
    Request bad_header = request;
    for (auto& [k, v] : bad_header.headers) {
      if (k == auth->signed_headers.front()) v.back() ^= 1;
    }
    EXPECT_EQ(AwsCode(VerifySigV4(bad_header, *auth, secret, payload_hash, now)),
              "SignatureDoesNotMatch");
    if (hashed && !body.empty()) {
      std::string bad_body = body;
      bad_body[bad_body.size() / 2] ^= 1;
      EXPECT_EQ(AwsCode(VerifySigV4(request, *auth, secret, Sha256Hex(bad_body), now)),
                "SignatureDoesNotMatch");
    }

    if (f.contains("decoded_b64")) {
      std::string decoded = Base64Decode(f["decoded_b64"].get<std::string>()).value();
      std::string key = cache.Get(secret, auth->scope_date, auth->region, auth->service);
      StringReader inner(body, 4000);
      AwsChunkedReader reader(inner, *auth, key, decoded.size());
      absl::StatusOr<std::string> got = DecodeAll(reader, 10000);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, decoded);
      ASSERT_EQ(reader.trailers().size(), 1u);
      EXPECT_EQ(reader.trailers()[0].first, "x-amz-checksum-crc32");
      std::string corrupt = body;
      corrupt[100] ^= 1;
      EXPECT_EQ(AwsCode(DecodeStatus(corrupt, *auth, key, decoded.size())), "BadDigest");
    }

    // SignRequest produces what botocore sent, given the headers botocore signed.
    if (!auth->presigned) {
      Request fresh = request;
      std::erase_if(fresh.headers, [&](const auto& h) {
        return h.first == "x-amz-date" || h.first == "authorization" ||
               (service == "s3" && h.first == "x-amz-content-sha256") ||
               std::find(auth->signed_headers.begin(), auth->signed_headers.end(), h.first) ==
                   auth->signed_headers.end();
      });
      SignRequest(fresh, auth->access_key_id, secret, auth->region, service, payload_hash,
                  AmzTime(f["amz_date"].get<std::string>()));
      EXPECT_EQ(fresh.Header("authorization"), request.Header("authorization"));
    }
  }
}

TEST(SigningKeyCache, MatchesDerivationAndIsThreadSafe) {
  SigningKeyCache cache;
  std::string expected = DeriveSigningKey("s", "20260101", "r", "s3");
  EXPECT_EQ(cache.Get("s", "20260101", "r", "s3"), expected);
  EXPECT_NE(cache.Get("s", "20260101", "r", "sagemaker"), expected);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 3500; ++i) {
        // More distinct keys than the cache holds, so it also empties itself meanwhile.
        std::string secret = "secret" + std::to_string((i * 4 + t) % 12000);
        ASSERT_EQ(cache.Get(secret, "20260101", "r", "s3"),
                  DeriveSigningKey(secret, "20260101", "r", "s3"));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.Get("s", "20260101", "r", "s3"), expected);
}

}  // namespace
}  // namespace mercato::http
