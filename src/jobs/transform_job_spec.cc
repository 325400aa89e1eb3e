#include "jobs/transform_job_spec.h"

#include <cctype>
#include <regex>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::jobs::transform {
namespace {

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

absl::Status Constraint(std::string_view value, std::string_view path,
                        std::string_view constraint) {
  return Invalid(fmt::format(
      "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}", value,
      path, constraint));
}

absl::Status Missing(std::string_view path) {
  return Invalid(fmt::format(
      "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member "
      "must not be null",
      path));
}

// The member `field` of `obj` as a string; nullopt when absent or null.
absl::StatusOr<std::optional<std::string>> OptString(const Json& obj, const char* field,
                                                     std::string_view path) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return Invalid(fmt::format("Value at '{}' must be a string", path));
  return it->get<std::string>();
}

absl::StatusOr<std::string> ReqString(const Json& obj, const char* field, std::string_view path) {
  ASSIGN_OR_RETURN(auto v, OptString(obj, field, path));
  if (!v) return Missing(path);
  return *v;
}

absl::StatusOr<std::optional<int64_t>> OptInt(const Json& obj, const char* field,
                                              std::string_view path, int64_t min, int64_t max) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer())
    return Invalid(fmt::format("Value at '{}' must be an integer", path));
  int64_t v = it->get<int64_t>();
  if (v < min) {
    return Constraint(std::to_string(v), path,
                      fmt::format("Member must have value greater than or equal to {}", min));
  }
  if (v > max) {
    return Constraint(std::to_string(v), path,
                      fmt::format("Member must have value less than or equal to {}", max));
  }
  return v;
}

absl::StatusOr<const Json*> OptObject(const Json& obj, const char* field, std::string_view path) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_object()) return Invalid(fmt::format("Value at '{}' must be a structure", path));
  return &*it;
}

absl::StatusOr<const Json*> ReqObject(const Json& obj, const char* field, std::string_view path) {
  ASSIGN_OR_RETURN(const Json* v, OptObject(obj, field, path));
  if (v == nullptr) return Missing(path);
  return v;
}

absl::Status Enum(std::string_view value, std::string_view path,
                  std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed) {
    if (value == a) return absl::OkStatus();
  }
  std::string set;
  for (auto a : allowed) set += (set.empty() ? "" : ", ") + std::string(a);
  return Constraint(value, path, fmt::format("Member must satisfy enum value set: [{}]", set));
}

absl::Status CheckName(std::string_view name, std::string_view path) {
  if (IsValidResourceName(name)) return absl::OkStatus();
  return Constraint(name, path,
                    "Member must satisfy regular expression pattern: "
                    "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
}

absl::Status ParseInput(const Json& in, TransformJobSpec& s) {
  ASSIGN_OR_RETURN(const Json* ti, ReqObject(in, "TransformInput", "transformInput"));
  ASSIGN_OR_RETURN(const Json* ds, ReqObject(*ti, "DataSource", "transformInput.dataSource"));
  constexpr char kS3[] = "transformInput.dataSource.s3DataSource";
  ASSIGN_OR_RETURN(const Json* s3, ReqObject(*ds, "S3DataSource", kS3));
  ASSIGN_OR_RETURN(s.data_type, ReqString(*s3, "S3DataType", fmt::format("{}.s3DataType", kS3)));
  RETURN_IF_ERROR(Enum(s.data_type, fmt::format("{}.s3DataType", kS3),
                       {"ManifestFile", "S3Prefix", "AugmentedManifestFile", "Converse"}));
  if (s.data_type != "S3Prefix" && s.data_type != "ManifestFile") {
    return Invalid(
        fmt::format("S3DataType {} is not supported for transform jobs; use S3Prefix "
                    "or ManifestFile",
                    s.data_type));
  }
  ASSIGN_OR_RETURN(std::string uri, ReqString(*s3, "S3Uri", fmt::format("{}.s3Uri", kS3)));
  auto loc = ParseS3Location(uri);
  if (!loc.ok())
    return Invalid(fmt::format("Invalid S3Uri '{}': {}", uri, std::string(loc.status().message())));
  s.input = *loc;
  if (s.data_type == "ManifestFile" && (s.input.key.empty() || s.input.key.back() == '/')) {
    return Invalid(fmt::format("S3Uri '{}' must name a manifest object", uri));
  }
  ASSIGN_OR_RETURN(auto ct, OptString(*ti, "ContentType", "transformInput.contentType"));
  s.content_type = ct.value_or("");
  ASSIGN_OR_RETURN(auto comp, OptString(*ti, "CompressionType", "transformInput.compressionType"));
  if (comp) {
    RETURN_IF_ERROR(Enum(*comp, "transformInput.compressionType", {"None", "Gzip"}));
    s.gzip = *comp == "Gzip";
  }
  ASSIGN_OR_RETURN(auto split, OptString(*ti, "SplitType", "transformInput.splitType"));
  if (split) {
    RETURN_IF_ERROR(
        Enum(*split, "transformInput.splitType", {"None", "Line", "RecordIO", "TFRecord"}));
    s.split = *ParseSplitType(*split);
  }
  return absl::OkStatus();
}

absl::Status ParseOutputAndResources(const Json& in, const sandbox::InstanceTypes* types,
                                     TransformJobSpec& s) {
  ASSIGN_OR_RETURN(const Json* to, ReqObject(in, "TransformOutput", "transformOutput"));
  ASSIGN_OR_RETURN(std::string out, ReqString(*to, "S3OutputPath", "transformOutput.s3OutputPath"));
  auto loc = ParseS3Location(out);
  if (!loc.ok()) {
    return Invalid(
        fmt::format("Invalid S3OutputPath '{}': {}", out, std::string(loc.status().message())));
  }
  s.output = *loc;
  ASSIGN_OR_RETURN(auto accept, OptString(*to, "Accept", "transformOutput.accept"));
  s.accept = accept.value_or("");
  ASSIGN_OR_RETURN(auto assemble, OptString(*to, "AssembleWith", "transformOutput.assembleWith"));
  if (assemble) {
    RETURN_IF_ERROR(Enum(*assemble, "transformOutput.assembleWith", {"None", "Line"}));
    s.assemble = *ParseAssembleWith(*assemble);
  }

  ASSIGN_OR_RETURN(const Json* tr, ReqObject(in, "TransformResources", "transformResources"));
  ASSIGN_OR_RETURN(s.instance_type,
                   ReqString(*tr, "InstanceType", "transformResources.instanceType"));
  if (types != nullptr && !types->Find(s.instance_type).ok()) {
    return Invalid(
        fmt::format("Invalid instance type '{}' for transform job {}", s.instance_type, s.name));
  }
  ASSIGN_OR_RETURN(auto count, OptInt(*tr, "InstanceCount", "transformResources.instanceCount", 1,
                                      kMaxTransformInstances));
  if (!count) return Missing("transformResources.instanceCount");
  s.instance_count = static_cast<int>(*count);
  return absl::OkStatus();
}

absl::Status ParseProcessing(const Json& in, TransformJobSpec& s) {
  ASSIGN_OR_RETURN(const Json* dp, OptObject(in, "DataProcessing", "dataProcessing"));
  if (dp != nullptr) {
    ASSIGN_OR_RETURN(auto inf, OptString(*dp, "InputFilter", "dataProcessing.inputFilter"));
    ASSIGN_OR_RETURN(auto outf, OptString(*dp, "OutputFilter", "dataProcessing.outputFilter"));
    ASSIGN_OR_RETURN(auto join, OptString(*dp, "JoinSource", "dataProcessing.joinSource"));
    for (auto [value, path] : {std::pair{&inf, "dataProcessing.inputFilter"},
                               std::pair{&outf, "dataProcessing.outputFilter"}}) {
      if (!*value) continue;
      if ((*value)->size() > 63) {
        return Constraint(**value, path, "Member must have length less than or equal to 63");
      }
      auto parsed = JsonPathFilter::Parse(**value);
      if (!parsed.ok()) return Invalid(std::string(parsed.status().message()));
    }
    if (inf) s.input_filter = *inf;
    if (outf) s.output_filter = *outf;
    if (join) {
      RETURN_IF_ERROR(Enum(*join, "dataProcessing.joinSource", {"Input", "None"}));
      s.join_input = *join == "Input";
    }
  }
  ASSIGN_OR_RETURN(const Json* mc, OptObject(in, "ModelClientConfig", "modelClientConfig"));
  if (mc != nullptr) {
    ASSIGN_OR_RETURN(auto timeout,
                     OptInt(*mc, "InvocationsTimeoutInSeconds",
                            "modelClientConfig.invocationsTimeoutInSeconds", 1, 3600));
    ASSIGN_OR_RETURN(auto retries, OptInt(*mc, "InvocationsMaxRetries",
                                          "modelClientConfig.invocationsMaxRetries", 0, 3));
    if (timeout) s.invocations_timeout_seconds = static_cast<int>(*timeout);
    if (retries) s.invocations_max_retries = static_cast<int>(*retries);
  }
  return absl::OkStatus();
}

absl::Status ParseEnvironment(const Json& in, TransformJobSpec& s) {
  auto it = in.find("Environment");
  if (it == in.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object()) return Invalid("Value at 'environment' must be a map");
  if (it->size() > 16) {
    return Constraint("map", "environment", "Member must have length less than or equal to 16");
  }
  static const std::regex kKey("[a-zA-Z_][a-zA-Z0-9_]{0,1023}");
  for (auto& [k, v] : it->items()) {
    if (!std::regex_match(k, kKey)) {
      return Constraint(k, "environment",
                        "Map keys must satisfy regular expression pattern: "
                        "[a-zA-Z_][a-zA-Z0-9_]{0,1023}");
    }
    if (!v.is_string() || v.get<std::string>().size() > 10240) {
      return Invalid(
          fmt::format("Environment value of {} must be a string of at most 10240 "
                      "characters",
                      k));
    }
    s.environment[k] = v.get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<S3Location> ParseS3Location(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError("it must start with s3://");
  }
  uri.remove_prefix(kScheme.size());
  size_t slash = uri.find('/');
  S3Location loc;
  loc.bucket = std::string(uri.substr(0, slash));
  if (slash != std::string_view::npos) loc.key = std::string(uri.substr(slash + 1));
  if (loc.bucket.empty()) return absl::InvalidArgumentError("it names no bucket");
  return loc;
}

absl::StatusOr<TransformJobSpec> TransformJobSpec::FromRequest(
    const Json& in, const sandbox::InstanceTypes* types) {
  if (!in.is_object()) return Invalid("The request must be a JSON object");
  TransformJobSpec s;
  ASSIGN_OR_RETURN(s.name, ReqString(in, "TransformJobName", "transformJobName"));
  RETURN_IF_ERROR(CheckName(s.name, "transformJobName"));
  ASSIGN_OR_RETURN(s.model_name, ReqString(in, "ModelName", "modelName"));
  RETURN_IF_ERROR(CheckName(s.model_name, "modelName"));

  ASSIGN_OR_RETURN(auto mct,
                   OptInt(in, "MaxConcurrentTransforms", "maxConcurrentTransforms", 0, 1 << 20));
  ASSIGN_OR_RETURN(auto mp, OptInt(in, "MaxPayloadInMB", "maxPayloadInMB", 0, 100));
  if (mct && *mct > 0) s.max_concurrent_transforms = static_cast<int>(*mct);
  if (mp) s.max_payload_mb = static_cast<int>(*mp);
  if (s.max_concurrent_transforms && s.max_payload_mb &&
      *s.max_concurrent_transforms * *s.max_payload_mb > 100) {
    return Invalid(fmt::format(
        "MaxConcurrentTransforms ({}) multiplied by MaxPayloadInMB ({}) must not exceed 100 MB",
        *s.max_concurrent_transforms, *s.max_payload_mb));
  }
  ASSIGN_OR_RETURN(auto strategy, OptString(in, "BatchStrategy", "batchStrategy"));
  if (strategy) {
    RETURN_IF_ERROR(Enum(*strategy, "batchStrategy", {"MultiRecord", "SingleRecord"}));
    s.batch_strategy = *ParseBatchStrategy(*strategy);
  }
  RETURN_IF_ERROR(ParseEnvironment(in, s));
  RETURN_IF_ERROR(ParseInput(in, s));
  RETURN_IF_ERROR(ParseOutputAndResources(in, types, s));
  RETURN_IF_ERROR(ParseProcessing(in, s));
  return s;
}

}  // namespace mercato::jobs::transform
