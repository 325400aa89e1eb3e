#include "catalog/package_spec.h"

#include <cstdlib>
#include <set>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::catalog {
namespace {

bool IsStringList(const Json& j) {
  if (!j.is_array()) return false;
  for (const Json& e : j) {
    if (!e.is_string()) return false;
  }
  return true;
}

absl::Status StringList(const Json& in, std::string_view field, std::string_view where,
                        bool required, size_t min = 0) {
  auto it = in.find(std::string(field));
  if (it == in.end() || it->is_null()) {
    if (required) return Invalid(fmt::format("{}.{} is required", where, field));
    return absl::OkStatus();
  }
  if (!IsStringList(*it)) {
    return Invalid(fmt::format("{}.{} must be a list of strings", where, field));
  }
  if (it->size() < min) {
    return Invalid(fmt::format("{}.{} must have at least {} member(s)", where, field, min));
  }
  return absl::OkStatus();
}

bool ParseNumber(const Json& j, double* out) {
  if (!j.is_string()) return false;
  const std::string s = j.get<std::string>();
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

absl::Status CheckHyperParameter(const Json& hp) {
  if (!hp.is_object() || !hp.contains("Name") || !hp["Name"].is_string()) {
    return Invalid("SupportedHyperParameters entries need a Name");
  }
  const std::string name = hp["Name"].get<std::string>();
  static const std::set<std::string> kTypes = {"Integer", "Continuous", "Categorical", "FreeText"};
  if (!hp.contains("Type") || !hp["Type"].is_string() ||
      !kTypes.count(hp["Type"].get<std::string>())) {
    return Invalid(fmt::format(
        "Hyperparameter '{}': Type must be one of Integer, Continuous, Categorical, FreeText",
        name));
  }
  const std::string type = hp["Type"].get<std::string>();
  const Json range = hp.value("Range", Json());
  const Json dflt = hp.value("DefaultValue", Json());
  if (!dflt.is_null() && !dflt.is_string()) {
    return Invalid(fmt::format("Hyperparameter '{}': DefaultValue must be a string", name));
  }
  if (type == "Integer" || type == "Continuous") {
    const char* key = type == "Integer" ? "IntegerParameterRangeSpecification"
                                        : "ContinuousParameterRangeSpecification";
    if (range.is_null()) return absl::OkStatus();
    if (!range.contains(key)) {
      return Invalid(fmt::format("Hyperparameter '{}' of type {} needs Range.{}", name, type, key));
    }
    double lo = 0, hi = 0;
    if (!ParseNumber(range[key].value("MinValue", Json()), &lo) ||
        !ParseNumber(range[key].value("MaxValue", Json()), &hi) || lo > hi) {
      return Invalid(fmt::format(
          "Hyperparameter '{}': Range needs numeric MinValue <= MaxValue (as strings)", name));
    }
    if (!dflt.is_null()) {
      double d = 0;
      if (!ParseNumber(dflt, &d) || d < lo || d > hi ||
          (type == "Integer" && d != static_cast<double>(static_cast<int64_t>(d)))) {
        return Invalid(fmt::format("Hyperparameter '{}': DefaultValue '{}' is outside its Range",
                                   name, dflt.get<std::string>()));
      }
    }
  } else if (type == "Categorical") {
    if (range.is_null()) return absl::OkStatus();
    const Json values =
        range.value("CategoricalParameterRangeSpecification", Json()).value("Values", Json());
    if (!IsStringList(values) || values.empty()) {
      return Invalid(
          fmt::format("Hyperparameter '{}' of type Categorical needs "
                      "Range.CategoricalParameterRangeSpecification"
                      ".Values",
                      name));
    }
    if (!dflt.is_null() && std::find(values.begin(), values.end(), dflt) == values.end()) {
      return Invalid(fmt::format("Hyperparameter '{}': DefaultValue '{}' is not one of its Values",
                                 name, dflt.get<std::string>()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckChannel(const Json& ch) {
  if (!ch.is_object() || !ch.contains("Name") || !ch["Name"].is_string()) {
    return Invalid("TrainingChannels entries need a Name");
  }
  std::string where = fmt::format("TrainingChannels[{}]", ch["Name"].get<std::string>());
  RETURN_IF_ERROR(StringList(ch, "SupportedContentTypes", where, true));
  RETURN_IF_ERROR(StringList(ch, "SupportedInputModes", where, true, 1));
  for (const Json& m : ch["SupportedInputModes"]) {
    const std::string mode = m.get<std::string>();
    if (mode != "File" && mode != "Pipe" && mode != "FastFile") {
      return Invalid(fmt::format("{}: input mode '{}' is not File, Pipe or FastFile", where, mode));
    }
  }
  RETURN_IF_ERROR(StringList(ch, "SupportedCompressionTypes", where, false));
  return absl::OkStatus();
}

absl::Status CheckObject(const Json& in, std::string_view field, std::string_view where) {
  if (!in.contains(std::string(field)) || !in[std::string(field)].is_object()) {
    return Invalid(fmt::format("{}.{} is required", where, field));
  }
  return absl::OkStatus();
}

absl::Status CheckTrainingJobDefinition(const Json& d, std::string_view where) {
  for (const char* f : {"OutputDataConfig", "ResourceConfig", "StoppingCondition"}) {
    RETURN_IF_ERROR(CheckObject(d, f, where));
  }
  if (!d.contains("TrainingInputMode") || !d["TrainingInputMode"].is_string()) {
    return Invalid(fmt::format("{}.TrainingInputMode is required", where));
  }
  if (!d.contains("InputDataConfig") || !d["InputDataConfig"].is_array() ||
      d["InputDataConfig"].empty()) {
    return Invalid(fmt::format("{}.InputDataConfig needs at least one channel", where));
  }
  return absl::OkStatus();
}

absl::Status CheckTransformJobDefinition(const Json& d, std::string_view where) {
  for (const char* f : {"TransformInput", "TransformOutput", "TransformResources"}) {
    RETURN_IF_ERROR(CheckObject(d, f, where));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

absl::Status NotFoundError(std::string_view what, std::string_view name_or_arn) {
  return AwsError(absl::StatusCode::kNotFound, "ResourceNotFound",
                  fmt::format("{} {} does not exist.", what, name_or_arn));
}

absl::StatusOr<std::string> RequiredName(const Json& in, std::string_view field) {
  auto it = in.find(std::string(field));
  if (it == in.end() || it->is_null()) {
    return Invalid(
        fmt::format("1 validation error detected: Value null at '{}' failed to "
                    "satisfy constraint: Member must not be null",
                    field));
  }
  if (!it->is_string() || !IsValidResourceName(it->get<std::string>())) {
    return Invalid(fmt::format(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}",
        it->is_string() ? it->get<std::string>() : it->dump(), field));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> OptionalString(const Json& in, std::string_view field) {
  auto it = in.find(std::string(field));
  if (it == in.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Invalid(fmt::format("{} must be a string", field));
  return it->get<std::string>();
}

absl::Status CheckTrainingSpecification(const Json& spec) {
  constexpr std::string_view kWhere = "TrainingSpecification";
  if (!spec.is_object()) return Invalid("TrainingSpecification is required");
  if (!spec.contains("TrainingImage") || !spec["TrainingImage"].is_string() ||
      spec["TrainingImage"].get<std::string>().empty()) {
    return Invalid("TrainingSpecification.TrainingImage is required");
  }
  RETURN_IF_ERROR(StringList(spec, "SupportedTrainingInstanceTypes", kWhere, true, 1));
  const Json hps = spec.value("SupportedHyperParameters", Json::array());
  if (!hps.is_array() || hps.size() > 100) {
    return Invalid("TrainingSpecification.SupportedHyperParameters must be a list of at most 100");
  }
  std::set<std::string> names;
  for (const Json& hp : hps) {
    RETURN_IF_ERROR(CheckHyperParameter(hp));
    if (!names.insert(hp["Name"].get<std::string>()).second) {
      return Invalid(
          fmt::format("Hyperparameter '{}' is declared twice", hp["Name"].get<std::string>()));
    }
  }
  const Json channels = spec.value("TrainingChannels", Json());
  if (!channels.is_array() || channels.empty() || channels.size() > 8) {
    return Invalid("TrainingSpecification.TrainingChannels must list 1 to 8 channels");
  }
  for (const Json& ch : channels) RETURN_IF_ERROR(CheckChannel(ch));
  const Json metrics = spec.value("MetricDefinitions", Json::array());
  if (!metrics.is_array() || metrics.size() > 40) {
    return Invalid("TrainingSpecification.MetricDefinitions must be a list of at most 40");
  }
  for (const Json& m : metrics) {
    if (!m.is_object() || !m.value("Name", Json()).is_string() ||
        !m.value("Regex", Json()).is_string()) {
      return Invalid("MetricDefinitions entries need a Name and a Regex");
    }
  }
  if (spec.contains("SupportsDistributedTraining") &&
      !spec["SupportsDistributedTraining"].is_boolean()) {
    return Invalid("TrainingSpecification.SupportsDistributedTraining must be a boolean");
  }
  return absl::OkStatus();
}

absl::Status CheckInferenceSpecification(const Json& spec, std::string_view where) {
  if (!spec.is_object()) return Invalid(fmt::format("{} must be a structure", where));
  const Json containers = spec.value("Containers", Json());
  if (!containers.is_array() || containers.empty() || containers.size() > 15) {
    return Invalid(fmt::format("{}.Containers must list 1 to 15 containers", where));
  }
  for (const Json& c : containers) {
    if (!c.is_object() || !c.value("Image", Json()).is_string() ||
        c["Image"].get<std::string>().empty()) {
      return Invalid(fmt::format("{}.Containers: every container needs an Image", where));
    }
    if (c.contains("ModelDataUrl")) {
      if (!c["ModelDataUrl"].is_string() ||
          !c["ModelDataUrl"].get<std::string>().starts_with("s3://")) {
        return Invalid(fmt::format("{}.Containers: ModelDataUrl must be an s3:// URL", where));
      }
    }
    if (c.contains("Environment") && !c["Environment"].is_object()) {
      return Invalid(fmt::format("{}.Containers: Environment must be a map", where));
    }
  }
  RETURN_IF_ERROR(StringList(spec, "SupportedTransformInstanceTypes", where, false, 1));
  RETURN_IF_ERROR(StringList(spec, "SupportedRealtimeInferenceInstanceTypes", where, false));
  RETURN_IF_ERROR(StringList(spec, "SupportedContentTypes", where, false));
  RETURN_IF_ERROR(StringList(spec, "SupportedResponseMIMETypes", where, false));
  return absl::OkStatus();
}

absl::StatusOr<size_t> CheckValidationSpecification(const Json& spec, bool algorithm) {
  if (!spec.is_object()) return Invalid("ValidationSpecification must be a structure");
  if (!spec.value("ValidationRole", Json()).is_string()) {
    return Invalid("ValidationSpecification.ValidationRole is required");
  }
  const Json profiles = spec.value("ValidationProfiles", Json());
  if (!profiles.is_array() || profiles.size() > 1 || (algorithm && profiles.empty())) {
    return Invalid(fmt::format("ValidationSpecification.ValidationProfiles must list {} profile",
                               algorithm ? "exactly one" : "at most one"));
  }
  for (const Json& p : profiles) {
    if (!p.is_object()) return Invalid("ValidationProfiles entries must be structures");
    ASSIGN_OR_RETURN(std::string name, RequiredName(p, "ProfileName"));
    std::string where = fmt::format("ValidationProfiles[{}]", name);
    if (algorithm) {
      RETURN_IF_ERROR(CheckObject(p, "TrainingJobDefinition", where));
      RETURN_IF_ERROR(
          CheckTrainingJobDefinition(p["TrainingJobDefinition"], where + ".TrainingJobDefinition"));
    } else {
      RETURN_IF_ERROR(CheckObject(p, "TransformJobDefinition", where));
    }
    if (p.contains("TransformJobDefinition")) {
      RETURN_IF_ERROR(CheckTransformJobDefinition(p["TransformJobDefinition"],
                                                  where + ".TransformJobDefinition"));
    }
  }
  return profiles.size();
}

absl::Status CheckSourceAlgorithmSpecification(const Json& spec) {
  const Json algos = spec.is_object() ? spec.value("SourceAlgorithms", Json()) : Json();
  if (!algos.is_array() || algos.size() != 1) {
    return Invalid("SourceAlgorithmSpecification.SourceAlgorithms must list exactly one algorithm");
  }
  const Json& a = algos[0];
  if (!a.is_object() || !a.value("AlgorithmName", Json()).is_string()) {
    return Invalid("SourceAlgorithms entries need an AlgorithmName");
  }
  if (!a.value("ModelDataUrl", Json()).is_string() ||
      !a["ModelDataUrl"].get<std::string>().starts_with("s3://")) {
    return Invalid("SourceAlgorithms entries need a ModelDataUrl (an s3:// URL)");
  }
  return absl::OkStatus();
}

std::vector<std::string> SpecImages(const Json& spec) {
  std::vector<std::string> out;
  auto add = [&](const Json& j) {
    if (j.is_string() && std::find(out.begin(), out.end(), j.get<std::string>()) == out.end()) {
      out.push_back(j.get<std::string>());
    }
  };
  if (spec.contains("TrainingSpecification")) {
    add(spec["TrainingSpecification"].value("TrainingImage", Json()));
  }
  if (spec.contains("InferenceSpecification")) {
    for (const Json& c : spec["InferenceSpecification"].value("Containers", Json::array())) {
      add(c.value("Image", Json()));
    }
  }
  return out;
}

Json PublicView(const Json& describe) {
  Json out = describe;
  out.erase("ValidationSpecification");
  if (out.contains("TrainingSpecification")) {
    Json& t = out["TrainingSpecification"];
    for (const char* k : {"TrainingImage", "TrainingImageDigest", "AdditionalS3DataSource"}) {
      t.erase(k);
    }
  }
  if (out.contains("InferenceSpecification")) {
    for (Json& c : out["InferenceSpecification"]["Containers"]) {
      for (const char* k :
           {"Image", "ImageDigest", "ModelDataUrl", "ModelDataSource", "AdditionalS3DataSource",
            "Environment", "ModelDataETag", "AdditionalModelDataSources", "ModelInput"}) {
        c.erase(k);
      }
    }
  }
  if (out.contains("SourceAlgorithmSpecification")) {
    for (Json& a : out["SourceAlgorithmSpecification"]["SourceAlgorithms"]) {
      for (const char* k : {"ModelDataUrl", "ModelDataSource", "ModelDataETag"}) a.erase(k);
    }
  }
  for (const char* key : {"AlgorithmStatusDetails", "ModelPackageStatusDetails"}) {
    if (!out.contains(key)) continue;
    Json& d = out[key];
    d.erase("ImageScanStatuses");
    if (d.contains("ValidationStatuses")) {
      for (Json& v : d["ValidationStatuses"]) v.erase("FailureReason");
    }
  }
  for (const char* k : {"SamplePayloadUrl", "ModelMetrics", "DriftCheckBaselines",
                        "CustomerMetadataProperties", "MetadataProperties", "SourceUri",
                        "CreatedBy", "LastModifiedBy", "AdditionalInferenceSpecifications"}) {
    out.erase(k);
  }
  return out;
}

}  // namespace mercato::catalog
