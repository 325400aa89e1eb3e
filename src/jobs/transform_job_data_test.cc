#include "jobs/transform_job_data.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/errors.h"
#include "jobs/transform_job_spec.h"

namespace mercato::jobs::transform {
namespace {

std::vector<std::string> Strings(const std::vector<std::string_view>& v) {
  return {v.begin(), v.end()};
}

TEST(SplitRecords, LinesSkipEmptyAndCarriageReturns) {
  auto r = SplitRecords("a,1\r\nb,2\n\nc,3", SplitType::kLine);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Strings(*r), (std::vector<std::string>{"a,1", "b,2", "c,3"}));
  EXPECT_EQ(Strings(*SplitRecords("whole\nobject\n", SplitType::kNone)),
            std::vector<std::string>{"whole\nobject\n"});
  EXPECT_TRUE(SplitRecords("", SplitType::kLine)->empty());
}

std::string RecordIOFrame(std::string_view data, uint32_t cflag = 0) {
  std::string out(8, '\0');
  uint32_t magic = 0xced7230a, lrec = (cflag << 29) | static_cast<uint32_t>(data.size());
  std::memcpy(out.data(), &magic, 4);
  std::memcpy(out.data() + 4, &lrec, 4);
  out += data;
  while (out.size() % 4) out += '\0';
  return out;
}

TEST(SplitRecords, RecordIOFramesAndMultipartRecords) {
  std::string data = RecordIOFrame("abc") + RecordIOFrame("de", 1) + RecordIOFrame("fg", 3) +
                     RecordIOFrame("hijk");
  auto r = SplitRecords(data, SplitType::kRecordIO);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0], RecordIOFrame("abc"));
  EXPECT_EQ((*r)[1], RecordIOFrame("de", 1) + RecordIOFrame("fg", 3));
  EXPECT_EQ((*r)[2], RecordIOFrame("hijk"));
  EXPECT_FALSE(SplitRecords(data.substr(0, data.size() - 5), SplitType::kRecordIO).ok());
  EXPECT_FALSE(SplitRecords("garbage!", SplitType::kRecordIO).ok());
}

TEST(SplitRecords, TFRecordFrames) {
  auto frame = [](std::string_view d) {
    std::string out(12, '\0');
    uint64_t len = d.size();
    std::memcpy(out.data(), &len, 8);
    return out + std::string(d) + std::string(4, '\0');
  };
  std::string data = frame("one") + frame("three");
  auto r = SplitRecords(data, SplitType::kTFRecord);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1], frame("three"));
  EXPECT_FALSE(SplitRecords(data.substr(0, 20), SplitType::kTFRecord).ok());
}

TEST(MakeBatches, MultiRecordPacksUpToTheLimitInOrder) {
  std::vector<std::string> recs = {"aaaa", "bbbb", "cccc", "dd", "e"};
  auto b = MakeBatches(recs, SplitType::kLine, BatchStrategy::kMultiRecord, 10);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].payload, "aaaa\nbbbb\n");
  EXPECT_EQ((*b)[0].first, 0u);
  EXPECT_EQ((*b)[0].count, 2u);
  EXPECT_EQ((*b)[1].payload, "cccc\ndd\ne\n");
  EXPECT_EQ((*b)[1].first, 2u);
  EXPECT_EQ((*b)[1].count, 3u);
  auto all = MakeBatches(recs, SplitType::kLine, BatchStrategy::kMultiRecord, 0);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].count, 5u);
}

TEST(MakeBatches, SingleRecordAndOversizedRecords) {
  std::vector<std::string> recs = {"a", "bb", "ccc"};
  auto b = MakeBatches(recs, SplitType::kLine, BatchStrategy::kSingleRecord, 100);
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[1].payload, "bb\n");
  auto none = MakeBatches(std::vector<std::string>{"raw"}, SplitType::kNone,
                          BatchStrategy::kMultiRecord, 3);
  EXPECT_EQ((*none)[0].payload, "raw");
  auto big = MakeBatches(recs, SplitType::kLine, BatchStrategy::kMultiRecord, 3);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("record 3 is 4 bytes"), std::string::npos);
}

TEST(MakeBatches, ViewsBatchLikeStrings) {
  std::string data = "aaaa\nbbbb\r\n\ncccc\ndd\ne";
  auto views = SplitRecords(data, SplitType::kLine);
  ASSERT_TRUE(views.ok());
  std::vector<std::string> copies(views->begin(), views->end());
  for (uint64_t limit : {0, 3, 5, 10, 11}) {
    for (auto strategy : {BatchStrategy::kSingleRecord, BatchStrategy::kMultiRecord}) {
      auto a = MakeBatches(*views, SplitType::kLine, strategy, limit, data);
      auto b = MakeBatches(copies, SplitType::kLine, strategy, limit);
      ASSERT_EQ(a.ok(), b.ok()) << limit;
      if (!a.ok()) {
        EXPECT_EQ(a.status(), b.status());
        continue;
      }
      ASSERT_EQ(a->size(), b->size()) << limit;
      for (size_t i = 0; i < a->size(); ++i) {
        EXPECT_EQ((*a)[i].bytes(), (*b)[i].bytes());
        EXPECT_EQ((*b)[i].bytes(), (*b)[i].payload);
        EXPECT_EQ((*a)[i].first, (*b)[i].first);
        EXPECT_EQ((*a)[i].count, (*b)[i].count);
      }
    }
  }
}

TEST(MakeBatches, ViewsIntoTheBufferWhenTheBytesAreAlreadyThere) {
  // "bbbb\r\n" and the empty line make the bytes differ; "e" lacks its newline.
  std::string data = "aaaa\nbbbb\r\n\ncccc\ndd\ne";
  auto views = SplitRecords(data, SplitType::kLine);
  ASSERT_TRUE(views.ok());
  auto b = MakeBatches(*views, SplitType::kLine, BatchStrategy::kMultiRecord, 8, data);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 4u);  // aaaa | bbbb | cccc dd | e
  EXPECT_EQ((*b)[0].view.data(), data.data());
  EXPECT_EQ((*b)[0].bytes(), "aaaa\n");
  EXPECT_EQ((*b)[1].view.data(), nullptr);
  EXPECT_EQ((*b)[1].bytes(), "bbbb\n");
  EXPECT_EQ((*b)[2].view.data(), data.data() + 12);
  EXPECT_EQ((*b)[2].bytes(), "cccc\ndd\n");
  EXPECT_EQ((*b)[3].view.data(), nullptr);
  EXPECT_EQ((*b)[3].bytes(), "e\n");
  // Frames are sent as they are, so back-to-back frames are always in place.
  std::string frames = "0123456789";
  std::vector<std::string_view> recs = {std::string_view(frames).substr(0, 4),
                                        std::string_view(frames).substr(4, 6)};
  auto f = MakeBatches(recs, SplitType::kRecordIO, BatchStrategy::kMultiRecord, 0, frames);
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0].view.data(), frames.data());
  EXPECT_EQ((*f)[0].bytes(), frames);
  // Without the buffer every batch owns its bytes.
  auto owned = MakeBatches(recs, SplitType::kRecordIO, BatchStrategy::kMultiRecord, 0);
  EXPECT_EQ((*owned)[0].view.data(), nullptr);
  EXPECT_EQ((*owned)[0].payload, frames);
}

TEST(JsonPathFilter, CsvColumns) {
  auto apply = [](std::string_view path, std::string_view rec) {
    auto f = JsonPathFilter::Parse(path);
    EXPECT_TRUE(f.ok()) << path;
    auto r = f->Apply(rec, RecordFormat::kCsv);
    return r.ok() ? *r : "ERR:" + std::string(r.status().message());
  };
  EXPECT_EQ(apply("$", "1,2,3"), "1,2,3");
  EXPECT_EQ(apply("$[1:]", "id,2,3"), "2,3");
  EXPECT_EQ(apply("$[0,2]", "a,b,c,d"), "a,c");
  EXPECT_EQ(apply("$[-1]", "a,b,c"), "c");
  EXPECT_EQ(apply("$[:2]", "a,\"b,x\",c"), "a,\"b,x\"");
  EXPECT_EQ(apply("$[1:3]", "a,b,c,d"), "b,c");
  EXPECT_EQ(apply("$.features", "a,b").substr(0, 4), "ERR:");
}

TEST(JsonPathFilter, JsonPaths) {
  auto apply = [](std::string_view path, std::string_view rec) {
    auto f = JsonPathFilter::Parse(path);
    EXPECT_TRUE(f.ok()) << path;
    auto r = f->Apply(rec, RecordFormat::kJson);
    return r.ok() ? *r : "ERR";
  };
  std::string rec = R"({"id": 7, "features": [1, 2, 3], "meta": {"a": "x"}})";
  EXPECT_EQ(apply("$.features", rec), "[1,2,3]");
  EXPECT_EQ(apply("$['meta'].a", rec), "\"x\"");
  EXPECT_EQ(apply("$.features[1:]", rec), "[2,3]");
  EXPECT_EQ(apply("$.features[0]", rec), "1");
  EXPECT_EQ(apply("$.features[0,2]", rec), "[1,3]");
  EXPECT_EQ(apply("$.missing", rec), "ERR");
  EXPECT_EQ(apply("$[0]", "[5, 6]"), "5");
  EXPECT_EQ(apply("$.a", "not json"), "ERR");
  EXPECT_FALSE(JsonPathFilter::Parse("features").ok());
  EXPECT_FALSE(JsonPathFilter::Parse("$[1").ok());
  EXPECT_FALSE(JsonPathFilter::Parse("$[x]").ok());
  EXPECT_TRUE(JsonPathFilter::Parse("$")->identity());
}

TEST(JoinRecord, CsvAndJson) {
  EXPECT_EQ(*JoinRecord("1,2", "0.5\n", RecordFormat::kCsv), "1,2,0.5");
  EXPECT_EQ(*JoinRecord(R"({"x":1})", R"({"score":0.5})", RecordFormat::kJson),
            R"({"SageMakerOutput":{"score":0.5},"x":1})");
  EXPECT_EQ(*JoinRecord("[1,2]", "0.5", RecordFormat::kJson), "[1,2,0.5]");
  EXPECT_EQ(*JoinRecord(R"({"x":1})", "label-a", RecordFormat::kJson),
            R"({"SageMakerOutput":"label-a","x":1})");
  EXPECT_FALSE(JoinRecord("3", "1", RecordFormat::kJson).ok());
}

TEST(SplitOutputRecords, MatchesCounts) {
  EXPECT_EQ(*SplitOutputRecords("0.1\n0.2\n", 2), (std::vector<std::string>{"0.1", "0.2"}));
  EXPECT_EQ(*SplitOutputRecords("a\nb\n", 1), std::vector<std::string>{"a\nb"});
  auto bad = SplitOutputRecords("0.1\n", 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("1 output records for 2 input"), std::string::npos);
}

TEST(Assembly, LineAddsMissingNewlinesNoneConcatenates) {
  std::string out;
  AppendAssembled(&out, "1\n2\n", AssembleWith::kLine);
  AppendAssembled(&out, "3", AssembleWith::kLine);
  EXPECT_EQ(out, "1\n2\n3\n");
  std::string raw;
  AppendAssembled(&raw, "[1]", AssembleWith::kNone);
  AppendAssembled(&raw, "[2]", AssembleWith::kNone);
  EXPECT_EQ(raw, "[1][2]");
}

TEST(OutputKeyFor, RelativeToThePrefixDirectory) {
  EXPECT_EQ(OutputKeyFor("in/a.csv", "in/", "out"), "out/a.csv.out");
  EXPECT_EQ(OutputKeyFor("in/sub/a.csv", "in", "out/"), "out/in/sub/a.csv.out");
  EXPECT_EQ(OutputKeyFor("in/data-1.csv", "in/data", ""), "data-1.csv.out");
  EXPECT_EQ(OutputKeyFor("x.csv", "", "o"), "o/x.csv.out");
}

TEST(Gunzip, RoundTripsAndRejectsPlainData) {
  // "hello\n" gzip-compressed (gzip -n).
  const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
                              0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};
  auto r = Gunzip(std::string_view(reinterpret_cast<const char*>(gz), sizeof(gz)), 1000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "hello\n");
  EXPECT_FALSE(Gunzip("plain text", 1000).ok());
  EXPECT_FALSE(Gunzip(std::string_view(reinterpret_cast<const char*>(gz), sizeof(gz)), 3).ok());
}

Json ValidRequest() {
  return Json::parse(R"({
    "TransformJobName": "job-1", "ModelName": "model-1",
    "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                       "S3Uri": "s3://bucket/in/"}}, "ContentType": "text/csv",
                       "SplitType": "Line", "CompressionType": "Gzip"},
    "TransformOutput": {"S3OutputPath": "s3://bucket/out", "AssembleWith": "Line"},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
    "BatchStrategy": "MultiRecord", "MaxConcurrentTransforms": 4, "MaxPayloadInMB": 1,
    "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input"},
    "ModelClientConfig": {"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 1},
    "Environment": {"A": "1"}})");
}

TEST(TransformJobSpec, ParsesAValidRequest) {
  auto types = sandbox::InstanceTypes::Default();
  auto s = TransformJobSpec::FromRequest(ValidRequest(), &types);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->input.bucket, "bucket");
  EXPECT_EQ(s->input.key, "in/");
  EXPECT_EQ(s->output.key, "out");
  EXPECT_EQ(s->split, SplitType::kLine);
  EXPECT_TRUE(s->gzip);
  EXPECT_EQ(s->assemble, AssembleWith::kLine);
  EXPECT_EQ(*s->batch_strategy, BatchStrategy::kMultiRecord);
  EXPECT_EQ(*s->max_concurrent_transforms, 4);
  EXPECT_EQ(*s->max_payload_mb, 1);
  EXPECT_EQ(s->instance_count, 2);
  EXPECT_EQ(s->input_filter, "$[1:]");
  EXPECT_TRUE(s->join_input);
  EXPECT_EQ(s->invocations_timeout_seconds, 30);
  EXPECT_EQ(s->invocations_max_retries, 1);
  EXPECT_EQ(s->environment.at("A"), "1");
}

std::string ErrorOf(const Json& req) {
  auto types = sandbox::InstanceTypes::Default();
  auto s = TransformJobSpec::FromRequest(req, &types);
  if (s.ok()) return "OK";
  EXPECT_EQ(AwsCodeOf(s.status()).value_or(""), "ValidationException");
  return std::string(s.status().message());
}

TEST(TransformJobSpec, RejectsInvalidRequests) {
  Json r = ValidRequest();
  r["MaxPayloadInMB"] = 101;
  EXPECT_NE(ErrorOf(r).find("Value '101' at 'maxPayloadInMB'"), std::string::npos);
  r = ValidRequest();
  r["MaxPayloadInMB"] = 30;
  EXPECT_NE(ErrorOf(r).find("must not exceed 100 MB"), std::string::npos);
  r = ValidRequest();
  r["TransformJobName"] = "bad_name";
  EXPECT_NE(ErrorOf(r).find("regular expression"), std::string::npos);
  r = ValidRequest();
  r["TransformInput"]["SplitType"] = "Word";
  EXPECT_NE(ErrorOf(r).find("enum value set"), std::string::npos);
  r = ValidRequest();
  r["BatchStrategy"] = "All";
  EXPECT_NE(ErrorOf(r).find("batchStrategy"), std::string::npos);
  r = ValidRequest();
  r["TransformOutput"]["AssembleWith"] = "Comma";
  EXPECT_NE(ErrorOf(r).find("assembleWith"), std::string::npos);
  r = ValidRequest();
  r["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] = "http://x/y";
  EXPECT_NE(ErrorOf(r).find("Invalid S3Uri"), std::string::npos);
  r = ValidRequest();
  r["TransformResources"]["InstanceType"] = "ml.nope.large";
  EXPECT_NE(ErrorOf(r).find("Invalid instance type"), std::string::npos);
  r = ValidRequest();
  r["TransformResources"].erase("InstanceCount");
  EXPECT_NE(ErrorOf(r).find("instanceCount"), std::string::npos);
  r = ValidRequest();
  r["DataProcessing"]["OutputFilter"] = "features";
  EXPECT_NE(ErrorOf(r).find("must start with '$'"), std::string::npos);
  r = ValidRequest();
  r["ModelClientConfig"]["InvocationsMaxRetries"] = 4;
  EXPECT_NE(ErrorOf(r).find("invocationsMaxRetries"), std::string::npos);
  r = ValidRequest();
  r.erase("TransformOutput");
  EXPECT_NE(ErrorOf(r).find("Value null at 'transformOutput'"), std::string::npos);
  r = ValidRequest();
  r["Environment"] = {{"1bad", "x"}};
  EXPECT_NE(ErrorOf(r).find("Map keys"), std::string::npos);
}

}  // namespace
}  // namespace mercato::jobs::transform
