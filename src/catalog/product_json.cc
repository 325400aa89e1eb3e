// The native API's JSON shapes of products, versions and reviews (product_types.h).
#include "absl/time/time.h"
#include "base/time_format.h"
#include "catalog/product_types.h"

namespace mercato::catalog {
namespace {

Json Rating(const Product& p) {
  Json r = {{"Count", p.rating_count}, {"Sum", p.rating_sum}};
  // Shown rounded; the exact figures (sum, count) stay alongside.
  r["Average"] =
      p.rating_count == 0 ? 0.0 : static_cast<double>(p.rating_sum * 100 / p.rating_count) / 100.0;
  return r;
}

Json Listing(const Product& p, std::string_view console_base) {
  return {{"ProductId", p.id},
          {"ProductCode", p.code},
          {"ProductUrl", std::string(console_base) + "/console/products/" + p.code},
          {"SellerAccount", p.seller_account},
          {"Title", p.title},
          {"ShortDescription", p.short_description},
          {"LongDescription", p.long_description},
          {"UsageInstructions", p.usage_instructions},
          {"DataPreprocessing", p.preprocessing},
          {"Categories", p.categories},
          {"Highlights", p.highlights},
          {"SupportContact", p.support_contact},
          {"Eula", p.eula},
          {"HasLogo", !p.logo_blob.empty()},
          {"HasSampleNotebook", !p.notebook_blob.empty()},
          {"HasSampleData", p.sample_data.contains("Key")},
          {"RecommendedInstanceTypes", p.instance_types},
          {"Visibility", p.visibility},
          {"ProductType", p.kind},
          {"Offer", p.offer},
          {"Free", p.is_free},
          {"FreeTrialDays", p.free_trial_days},
          {"Rating", Rating(p)},
          {"CreatedAt", IsoMicros(p.created_at)},
          {"UpdatedAt", IsoMicros(p.updated_at)},
          {"PublishedAt", IsoMicros(p.published_at)},
          {"RemovedAt", IsoMicros(p.removed_at)}};
}

Json Pick(const Json& from, std::initializer_list<const char*> keys) {
  Json out = Json::object();
  if (!from.is_object()) return out;
  for (const char* k : keys) {
    if (from.contains(k)) out[k] = from[k];
  }
  return out;
}

}  // namespace

std::string IsoMicros(int64_t micros) {
  return micros == 0 ? "" : FormatIso8601(absl::FromUnixMicros(micros));
}

Json PublicSpec(const Json& spec) {
  Json out = Json::object();
  if (!spec.is_object()) return out;
  if (spec.contains("InferenceSpecification")) {
    out["InferenceSpecification"] =
        Pick(spec["InferenceSpecification"],
             {"SupportedContentTypes", "SupportedResponseMIMETypes",
              "SupportedRealtimeInferenceInstanceTypes", "SupportedTransformInstanceTypes"});
  }
  if (spec.contains("TrainingSpecification")) {
    out["TrainingSpecification"] =
        Pick(spec["TrainingSpecification"],
             {"SupportedHyperParameters", "SupportedTrainingInstanceTypes",
              "SupportsDistributedTraining", "MetricDefinitions", "TrainingChannels",
              "SupportedTuningJobObjectiveMetrics"});
  }
  return out;
}

Json SellerProductJson(const Product& p, const std::vector<ProductVersion>& versions,
                       std::string_view console_base) {
  Json j = Listing(p, console_base);
  j["SampleData"] = p.sample_data;
  j["AllowList"] = p.allow_list;
  j["TestAccounts"] = p.test_accounts;
  Json vs = Json::array();
  for (const ProductVersion& v : versions) {
    vs.push_back({{"Version", v.version},
                  {"Kind", v.kind},
                  {"SourceArn", v.source_arn},
                  {"EscrowedArn", v.escrowed_arn},
                  {"ReleaseNotes", v.release_notes},
                  {"ImageDigests", v.image_digests},
                  {"ModelDataDigests", v.model_data_digests},
                  {"Restricted", v.restricted},
                  {"RestrictedAt", IsoMicros(v.restricted_at)},
                  {"CreatedAt", IsoMicros(v.created_at)}});
  }
  j["Versions"] = std::move(vs);
  return j;
}

Json SummaryJson(const Product& p) {
  return {{"ProductId", p.id},
          {"ProductCode", p.code},
          {"Title", p.title},
          {"ShortDescription", p.short_description},
          {"Categories", p.categories},
          {"ProductType", p.kind},
          {"Visibility", p.visibility},
          {"Free", p.is_free},
          {"FreeTrialDays", p.free_trial_days},
          {"Rating", Rating(p)},
          {"PublishedAt", IsoMicros(p.published_at)}};
}

Json BuyerProductJson(const Product& p, const std::vector<ProductVersion>& versions,
                      std::string_view console_base) {
  Json j = Listing(p, console_base);
  Json vs = Json::array();
  for (const ProductVersion& v : versions) {
    vs.push_back({{"Version", v.version},
                  {"ReleaseNotes", v.release_notes},
                  {"EscrowedArn", v.escrowed_arn},
                  {"Restricted", v.restricted},
                  {"Specification", PublicSpec(v.spec)},
                  {"CreatedAt", IsoMicros(v.created_at)}});
  }
  j["Versions"] = std::move(vs);
  return j;
}

Json ReviewJson(const Review& r) {
  Json j = {{"ReviewId", r.id},
            {"ProductId", r.product_id},
            {"Author", r.author_account},
            {"Rating", r.rating},
            {"Title", r.title},
            {"Body", r.body},
            {"CreatedAt", IsoMicros(r.created_at)},
            {"UpdatedAt", IsoMicros(r.updated_at)}};
  if (!r.reply.empty()) {
    j["SellerReply"] = {{"Body", r.reply}, {"RepliedAt", IsoMicros(r.replied_at)}};
  }
  return j;
}

}  // namespace mercato::catalog
