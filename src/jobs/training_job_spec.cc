#include "jobs/training_job_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::jobs::training {
namespace {

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

absl::Status NotNull(std::string_view member) {
  return Invalid(fmt::format(
      "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member "
      "must not be null",
      member));
}

absl::Status Constraint(std::string_view value, std::string_view member,
                        std::string_view constraint) {
  return Invalid(fmt::format(
      "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}", value,
      member, constraint));
}

absl::Status Unsupported(std::string_view what) {
  return Invalid(fmt::format("{} is not supported by this server", what));
}

absl::StatusOr<const Json*> Object(const Json& in, const char* field, std::string_view member,
                                   bool required) {
  auto it = in.find(field);
  if (it == in.end() || it->is_null()) {
    if (required) return NotNull(member);
    return nullptr;
  }
  if (!it->is_object()) return Invalid(fmt::format("{} must be a structure", member));
  return &*it;
}

absl::StatusOr<std::string> String(const Json& in, const char* field, std::string_view member,
                                   bool required) {
  auto it = in.find(field);
  if (it == in.end() || it->is_null()) {
    if (required) return NotNull(member);
    return std::string();
  }
  if (!it->is_string()) return Invalid(fmt::format("{} must be a string", member));
  return it->get<std::string>();
}

absl::StatusOr<std::optional<int64_t>> Integer(const Json& in, const char* field,
                                               std::string_view member) {
  auto it = in.find(field);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return Invalid(fmt::format("{} must be an integer", member));
  return it->get<int64_t>();
}

absl::StatusOr<std::vector<std::string>> StringList(const Json& in, const char* field,
                                                    std::string_view member) {
  std::vector<std::string> out;
  auto it = in.find(field);
  if (it == in.end() || it->is_null()) return out;
  if (!it->is_array()) return Invalid(fmt::format("{} must be a list", member));
  for (const Json& v : *it) {
    if (!v.is_string()) return Invalid(fmt::format("{} must be a list of strings", member));
    out.push_back(v.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> StringMap(const Json& in, const char* field,
                                                             std::string_view member,
                                                             size_t max_entries) {
  std::map<std::string, std::string> out;
  auto it = in.find(field);
  if (it == in.end() || it->is_null()) return out;
  if (!it->is_object()) return Invalid(fmt::format("{} must be a map", member));
  if (it->size() > max_entries) {
    return Invalid(fmt::format(
        "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must "
        "have length less than or equal to {}",
        member, max_entries));
  }
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_string()) {
      return Invalid(fmt::format(
          "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Map "
          "value must be a string (key '{}')",
          e.value().dump(), member, e.key()));
    }
    out[e.key()] = e.value().get<std::string>();
  }
  return out;
}

bool IsS3Uri(std::string_view uri) {
  return uri.starts_with("s3://") && uri.size() > 5 && uri[5] != '/';
}

bool IsValidChannelName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool IsValidEnvName(std::string_view name) {
  if (name.empty() || name.size() > 512) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

absl::Status CheckInputMode(const Json& j, std::string_view member) {
  auto it = j.find("TrainingInputMode");
  if (j.contains("InputMode")) it = j.find("InputMode");
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Invalid(fmt::format("{} must be a string", member));
  std::string mode = *it;
  if (mode == "File") return absl::OkStatus();
  if (mode == "Pipe" || mode == "FastFile") {
    return Unsupported(fmt::format("{} {} (use File)", member, mode));
  }
  return Constraint(mode, member, "Member must satisfy enum value set: [Pipe, File, FastFile]");
}

absl::Status ParseChannel(const Json& c, size_t index, TrainingJobSpec& spec) {
  std::string at = fmt::format("inputDataConfig.{}.member", index + 1);
  if (!c.is_object()) return Invalid(fmt::format("{} must be a structure", at));
  ChannelSpec ch;
  ASSIGN_OR_RETURN(ch.name, String(c, "ChannelName", at + ".channelName", true));
  if (!IsValidChannelName(ch.name)) {
    return Constraint(ch.name, at + ".channelName",
                      "Member must satisfy regular expression pattern: [A-Za-z0-9\\.\\-_]+");
  }
  ASSIGN_OR_RETURN(const Json* ds, Object(c, "DataSource", at + ".dataSource", true));
  if (ds->contains("FileSystemDataSource") || ds->contains("DatasetSource")) {
    return Unsupported(fmt::format("Channel {}: a data source other than S3DataSource", ch.name));
  }
  ASSIGN_OR_RETURN(const Json* s3,
                   Object(*ds, "S3DataSource", at + ".dataSource.s3DataSource", true));
  ASSIGN_OR_RETURN(ch.data_type,
                   String(*s3, "S3DataType", at + ".dataSource.s3DataSource.s3DataType", true));
  if (ch.data_type == "AugmentedManifestFile" || ch.data_type == "Converse") {
    return Unsupported(fmt::format("S3DataType {}", ch.data_type));
  }
  if (ch.data_type != "S3Prefix" && ch.data_type != "ManifestFile") {
    return Constraint(ch.data_type, at + ".dataSource.s3DataSource.s3DataType",
                      "Member must satisfy enum value set: [ManifestFile, S3Prefix, "
                      "AugmentedManifestFile, Converse]");
  }
  ASSIGN_OR_RETURN(ch.s3_uri, String(*s3, "S3Uri", at + ".dataSource.s3DataSource.s3Uri", true));
  if (!IsS3Uri(ch.s3_uri)) {
    return Invalid(fmt::format("Channel {}: S3Uri '{}' must be an s3://BUCKET/PREFIX URI", ch.name,
                               ch.s3_uri));
  }
  ASSIGN_OR_RETURN(std::string dist,
                   String(*s3, "S3DataDistributionType",
                          at + ".dataSource.s3DataSource.s3DataDistributionType", false));
  if (!dist.empty() && dist != "FullyReplicated" && dist != "ShardedByS3Key") {
    return Constraint(dist, at + ".dataSource.s3DataSource.s3DataDistributionType",
                      "Member must satisfy enum value set: [FullyReplicated, ShardedByS3Key]");
  }
  ASSIGN_OR_RETURN(ch.content_type, String(c, "ContentType", at + ".contentType", false));
  ASSIGN_OR_RETURN(std::string compression,
                   String(c, "CompressionType", at + ".compressionType", false));
  if (!compression.empty() && compression != "None") {
    return Unsupported(
        fmt::format("Channel {}: CompressionType {} in File mode", ch.name, compression));
  }
  ASSIGN_OR_RETURN(std::string wrapper,
                   String(c, "RecordWrapperType", at + ".recordWrapperType", false));
  if (!wrapper.empty() && wrapper != "None") {
    return Unsupported(fmt::format("Channel {}: RecordWrapperType {}", ch.name, wrapper));
  }
  RETURN_IF_ERROR(CheckInputMode(c, at + ".inputMode"));
  for (const ChannelSpec& other : spec.channels) {
    if (other.name == ch.name) {
      return Invalid(fmt::format("Channel names must be unique: '{}' appears twice", ch.name));
    }
  }
  spec.channels.push_back(std::move(ch));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingJobSpec> TrainingJobSpec::FromRequest(const Json& in,
                                                             const sandbox::InstanceTypes* types,
                                                             int max_instance_count) {
  if (!in.is_object()) return Invalid("The request body must be a JSON object");
  TrainingJobSpec spec;
  ASSIGN_OR_RETURN(spec.name, String(in, "TrainingJobName", "trainingJobName", true));
  if (!IsValidResourceName(spec.name)) {
    return Constraint(spec.name, "trainingJobName",
                      "Member must satisfy regular expression pattern: "
                      "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  }

  ASSIGN_OR_RETURN(spec.role_arn, String(in, "RoleArn", "roleArn", true));
  static const std::regex kRole(R"(arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  if (spec.role_arn.size() < 20 || spec.role_arn.size() > 2048 ||
      !std::regex_match(spec.role_arn, kRole)) {
    return Constraint(spec.role_arn, "roleArn",
                      "Member must satisfy regular expression pattern: "
                      "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$");
  }

  ASSIGN_OR_RETURN(const Json* algo,
                   Object(in, "AlgorithmSpecification", "algorithmSpecification", true));
  ASSIGN_OR_RETURN(spec.algorithm_name,
                   String(*algo, "AlgorithmName", "algorithmSpecification.algorithmName", false));
  ASSIGN_OR_RETURN(spec.image,
                   String(*algo, "TrainingImage", "algorithmSpecification.trainingImage", false));
  if (!spec.image.empty() && !spec.algorithm_name.empty()) {
    return Invalid(
        "AlgorithmSpecification must give either TrainingImage or AlgorithmName, "
        "not both");
  }
  if (spec.image.empty() && spec.algorithm_name.empty()) {
    return Invalid("AlgorithmSpecification must name a TrainingImage or an AlgorithmName");
  }
  if (!algo->contains("TrainingInputMode")) {
    return NotNull("algorithmSpecification.trainingInputMode");
  }
  RETURN_IF_ERROR(CheckInputMode(*algo, "algorithmSpecification.trainingInputMode"));
  ASSIGN_OR_RETURN(spec.entrypoint, StringList(*algo, "ContainerEntrypoint",
                                               "algorithmSpecification.containerEntrypoint"));
  ASSIGN_OR_RETURN(spec.arguments, StringList(*algo, "ContainerArguments",
                                              "algorithmSpecification.containerArguments"));
  if (auto it = algo->find("MetricDefinitions"); it != algo->end() && !it->is_null()) {
    if (!it->is_array()) return Invalid("MetricDefinitions must be a list");
    if (it->size() > 40) {
      return Invalid(
          "1 validation error detected: Value at 'algorithmSpecification.metricDefinitions' "
          "failed to satisfy constraint: Member must have length less than or equal to 40");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& m = (*it)[i];
      std::string at = fmt::format("algorithmSpecification.metricDefinitions.{}.member", i + 1);
      if (!m.is_object()) return Invalid(fmt::format("{} must be a structure", at));
      MetricSpec metric;
      ASSIGN_OR_RETURN(metric.name, String(m, "Name", at + ".name", true));
      ASSIGN_OR_RETURN(metric.regex, String(m, "Regex", at + ".regex", true));
      if (metric.name.empty() || metric.name.size() > 255) {
        return Constraint(metric.name, at + ".name", "Member must have length between 1 and 255");
      }
      if (metric.regex.empty() || metric.regex.size() > 500) {
        return Constraint(metric.regex, at + ".regex", "Member must have length between 1 and 500");
      }
      try {
        std::regex compiled(metric.regex, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Invalid(fmt::format("MetricDefinitions: the regex of metric '{}' is invalid: {}",
                                   metric.name, e.what()));
      }
      spec.metrics.push_back(std::move(metric));
    }
  }

  ASSIGN_OR_RETURN(spec.hyperparameters, StringMap(in, "HyperParameters", "hyperParameters", 100));
  for (const auto& [k, v] : spec.hyperparameters) {
    if (k.size() > 256 || v.size() > 2500) {
      return Invalid(fmt::format(
          "Hyperparameter '{}': keys may have up to 256 and values up to 2500 characters", k));
    }
  }
  ASSIGN_OR_RETURN(spec.environment, StringMap(in, "Environment", "environment", 100));
  for (const auto& [k, v] : spec.environment) {
    if (!IsValidEnvName(k)) {
      return Constraint(k, "environment",
                        "Map keys must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*");
    }
  }

  if (auto it = in.find("InputDataConfig"); it != in.end() && !it->is_null()) {
    if (!it->is_array()) return Invalid("InputDataConfig must be a list");
    if (it->size() > 20) {
      return Invalid(
          "1 validation error detected: Value at 'inputDataConfig' failed to satisfy "
          "constraint: Member must have length less than or equal to 20");
    }
    for (size_t i = 0; i < it->size(); ++i) RETURN_IF_ERROR(ParseChannel((*it)[i], i, spec));
  }

  ASSIGN_OR_RETURN(const Json* output, Object(in, "OutputDataConfig", "outputDataConfig", true));
  ASSIGN_OR_RETURN(spec.output_path,
                   String(*output, "S3OutputPath", "outputDataConfig.s3OutputPath", true));
  if (!IsS3Uri(spec.output_path)) {
    return Invalid(
        fmt::format("OutputDataConfig.S3OutputPath '{}' must be an s3://BUCKET/PREFIX "
                    "URI",
                    spec.output_path));
  }

  ASSIGN_OR_RETURN(const Json* res, Object(in, "ResourceConfig", "resourceConfig", true));
  if (res->contains("InstanceGroups") && !(*res)["InstanceGroups"].is_null()) {
    return Unsupported("ResourceConfig.InstanceGroups (heterogeneous clusters)");
  }
  ASSIGN_OR_RETURN(spec.instance_type,
                   String(*res, "InstanceType", "resourceConfig.instanceType", true));
  if (types != nullptr) {
    if (auto found = types->Find(spec.instance_type); !found.ok()) {
      return Invalid(
          fmt::format("ResourceConfig.InstanceType: {}", std::string(found.status().message())));
    }
  }
  ASSIGN_OR_RETURN(auto count, Integer(*res, "InstanceCount", "resourceConfig.instanceCount"));
  if (!count) return NotNull("resourceConfig.instanceCount");
  if (*count < 1) {
    return Constraint(std::to_string(*count), "resourceConfig.instanceCount",
                      "Member must have value greater than or equal to 1");
  }
  if (*count > max_instance_count) {
    return AwsError(absl::StatusCode::kResourceExhausted, "ResourceLimitExceeded",
                    fmt::format("The account-level service limit 'training job instance count' "
                                "is {} instances, with current utilization of 0 instances and a "
                                "request delta of {} instances.",
                                max_instance_count, *count));
  }
  spec.instance_count = static_cast<int>(*count);
  ASSIGN_OR_RETURN(auto volume, Integer(*res, "VolumeSizeInGB", "resourceConfig.volumeSizeInGB"));
  if (volume && *volume < 1) {
    return Constraint(std::to_string(*volume), "resourceConfig.volumeSizeInGB",
                      "Member must have value greater than or equal to 1");
  }

  ASSIGN_OR_RETURN(const Json* stop, Object(in, "StoppingCondition", "stoppingCondition", false));
  if (stop != nullptr) {
    ASSIGN_OR_RETURN(auto max_runtime, Integer(*stop, "MaxRuntimeInSeconds",
                                               "stoppingCondition.maxRuntimeInSeconds"));
    if (max_runtime) {
      if (*max_runtime < 1) {
        return Constraint(std::to_string(*max_runtime), "stoppingCondition.maxRuntimeInSeconds",
                          "Member must have value greater than or equal to 1");
      }
      if (*max_runtime > kMaxMaxRuntimeSeconds) {
        return Invalid(fmt::format("MaxRuntimeInSeconds {} is above the limit of {} seconds",
                                   *max_runtime, kMaxMaxRuntimeSeconds));
      }
      spec.max_runtime_seconds = *max_runtime;
    }
  }
  if (in.value("EnableManagedSpotTraining", false)) {
    return Unsupported("EnableManagedSpotTraining");
  }
  return spec;
}

Json DescribedRequest(const Json& request) {
  Json out = Json::object();
  for (const char* k :
       {"AlgorithmSpecification", "HyperParameters", "RoleArn", "InputDataConfig",
        "OutputDataConfig", "ResourceConfig", "StoppingCondition", "VpcConfig", "Environment",
        "CheckpointConfig", "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining", "ExperimentConfig", "RetryStrategy"}) {
    if (request.contains(k) && !request[k].is_null()) out[k] = request[k];
  }
  if (out.contains("AlgorithmSpecification")) {
    Json& a = out["AlgorithmSpecification"];
    if (!a.contains("EnableSageMakerMetricsTimeSeries")) {
      a["EnableSageMakerMetricsTimeSeries"] = false;
    }
  }
  if (out.contains("InputDataConfig")) {
    for (Json& c : out["InputDataConfig"]) {
      if (!c.contains("CompressionType")) c["CompressionType"] = "None";
      if (!c.contains("RecordWrapperType")) c["RecordWrapperType"] = "None";
      Json& s3 = c["DataSource"]["S3DataSource"];
      if (!s3.contains("S3DataDistributionType")) s3["S3DataDistributionType"] = "FullyReplicated";
    }
  }
  if (!out.contains("HyperParameters")) out["HyperParameters"] = Json::object();
  if (!out.contains("StoppingCondition")) out["StoppingCondition"] = Json::object();
  if (!out["StoppingCondition"].contains("MaxRuntimeInSeconds")) {
    out["StoppingCondition"]["MaxRuntimeInSeconds"] = kDefaultMaxRuntimeSeconds;
  }
  if (out.contains("OutputDataConfig") && !out["OutputDataConfig"].contains("CompressionType")) {
    out["OutputDataConfig"]["CompressionType"] = "GZIP";
  }
  for (const char* k : {"EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
                        "EnableManagedSpotTraining"}) {
    if (!out.contains(k)) out[k] = false;
  }
  return out;
}

std::vector<std::string> HostNames(int count) {
  std::vector<std::string> hosts;
  for (int i = 1; i <= count; ++i) hosts.push_back(fmt::format("algo-{}", i));
  return hosts;
}

absl::Status WriteHostConfig(const std::string& config_dir, const TrainingJobSpec& spec,
                             const std::string& host) {
  std::error_code ec;
  std::filesystem::create_directories(config_dir, ec);
  if (ec) return absl::InternalError(fmt::format("create {}: {}", config_dir, ec.message()));
  Json hyper = Json::object();
  for (const auto& [k, v] : spec.hyperparameters) hyper[k] = v;
  Json input = Json::object();
  for (const ChannelSpec& c : spec.channels) {
    Json entry = {{"TrainingInputMode", "File"},
                  {"S3DistributionType", "FullyReplicated"},
                  {"RecordWrapperType", "None"}};
    if (!c.content_type.empty()) entry["ContentType"] = c.content_type;
    input[c.name] = entry;
  }
  std::vector<std::string> hosts = HostNames(spec.instance_count);
  Json resource = {{"current_host", host},
                   {"current_instance_type", spec.instance_type},
                   {"current_group_name", "homogeneousCluster"},
                   {"hosts", hosts},
                   {"instance_groups", Json::array({{{"instance_group_name", "homogeneousCluster"},
                                                     {"instance_type", spec.instance_type},
                                                     {"hosts", hosts}}})},
                   {"network_interface_name", "eth0"}};
  for (const auto& [file, content] :
       std::vector<std::pair<std::string, Json>>{{"hyperparameters.json", hyper},
                                                 {"inputdataconfig.json", input},
                                                 {"resourceconfig.json", resource}}) {
    std::string path = config_dir + "/" + file;
    std::ofstream out(path, std::ios::trunc);
    out << content.dump();
    out.close();
    if (!out) return absl::InternalError(fmt::format("cannot write {}", path));
  }
  return absl::OkStatus();
}

std::optional<std::string> ChannelRelativePath(std::string_view prefix, std::string_view key) {
  if (key.empty() || key.back() == '/' || !key.starts_with(prefix)) return std::nullopt;
  std::string_view rel;
  if (key == prefix) {
    size_t slash = key.rfind('/');
    rel = slash == std::string_view::npos ? key : key.substr(slash + 1);
  } else if (prefix.empty() || prefix.back() == '/') {
    rel = key.substr(prefix.size());
  } else if (key[prefix.size()] == '/') {
    rel = key.substr(prefix.size() + 1);
  } else {
    size_t slash = prefix.rfind('/');
    rel = slash == std::string_view::npos ? key : key.substr(slash + 1);
  }
  // Normalize: drop empty components, refuse "." and "..".
  std::string out;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view part = rel.substr(start, end - start);
    if (part == "." || part == "..") return std::nullopt;
    if (!part.empty()) {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

absl::StatusOr<Manifest> ParseManifest(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_array() || parsed->empty() || !(*parsed)[0].is_object() ||
      !(*parsed)[0].contains("prefix") || !(*parsed)[0]["prefix"].is_string()) {
    return absl::InvalidArgumentError(
        "the manifest file must be a JSON array [{\"prefix\": \"s3://bucket/prefix/\"}, "
        "\"relative/key\", ...]");
  }
  Manifest m;
  m.prefix = (*parsed)[0]["prefix"].get<std::string>();
  if (!IsS3Uri(m.prefix)) {
    return absl::InvalidArgumentError(
        fmt::format("the manifest prefix '{}' is not an s3:// URI", m.prefix));
  }
  for (size_t i = 1; i < parsed->size(); ++i) {
    if (!(*parsed)[i].is_string()) {
      return absl::InvalidArgumentError(
          fmt::format("manifest entry {} is not a string (a key relative to the prefix)", i));
    }
    m.keys.push_back((*parsed)[i].get<std::string>());
  }
  return m;
}

absl::StatusOr<MetricCollector> MetricCollector::Create(const std::vector<MetricSpec>& metrics) {
  MetricCollector c;
  for (const MetricSpec& m : metrics) {
    try {
      c.metrics_.push_back({m.name, std::regex(m.regex, std::regex::ECMAScript), std::nullopt,
                            absl::InfinitePast()});
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(
          fmt::format("metric '{}': invalid regex: {}", m.name, e.what()));
    }
  }
  return c;
}

void MetricCollector::Feed(std::string_view line, absl::Time time) {
  if (line.size() > 4096) line = line.substr(0, 4096);
  for (Metric& m : metrics_) {
    std::match_results<std::string_view::const_iterator> match;
    try {
      if (!std::regex_search(line.begin(), line.end(), match, m.regex)) continue;
    } catch (const std::regex_error&) {
      continue;  // e.g. error_complexity on a pathological line
    }
    std::string text = match.size() > 1 && match[1].matched ? match[1].str() : match[0].str();
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !std::isfinite(v)) continue;
    m.value = v;
    m.time = time;
  }
}

Json MetricCollector::Final() const {
  Json out = Json::array();
  for (const Metric& m : metrics_) {
    if (!m.value) continue;
    out.push_back({{"MetricName", m.name},
                   {"Value", *m.value},
                   {"Timestamp", static_cast<double>(absl::ToUnixMicros(m.time)) / 1e6}});
  }
  return out;
}

}  // namespace mercato::jobs::training
