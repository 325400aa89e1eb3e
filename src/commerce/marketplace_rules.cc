#include "commerce/marketplace_rules.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::commerce {
namespace {

absl::Status Invalid(std::string message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", std::move(message));
}

std::vector<std::string> Strings(const Json& j, std::string_view key) {
  std::vector<std::string> out;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_array()) return out;
  for (const Json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view v) {
  for (const auto& x : list) {
    if (x == v) return true;
  }
  return false;
}

bool ParseInteger(std::string_view s, long long* out) {
  std::string str(s);
  if (str.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtoll(str.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

bool ParseNumber(std::string_view s, double* out) {
  std::string str(s);
  if (str.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(str.c_str(), &end);
  return errno == 0 && end && *end == '\0' && std::isfinite(*out);
}

// A range bound as the spec gives it (a string in SageMaker's shape, a number tolerated).
std::string Bound(const Json& range, const char* key) {
  auto it = range.find(key);
  if (it == range.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return "";
}

absl::Status CheckChannels(const Json& in, const Json& training_spec,
                           std::string_view algorithm_name, std::string_view default_mode) {
  std::map<std::string, const Json*> declared;
  if (auto it = training_spec.find("TrainingChannels"); it != training_spec.end()) {
    for (const Json& c : *it) {
      if (c.is_object() && c.contains("Name")) declared[c["Name"].get<std::string>()] = &c;
    }
  }
  std::set<std::string> given;
  if (auto it = in.find("InputDataConfig"); it != in.end() && it->is_array()) {
    for (const Json& c : *it) {
      std::string name = c.value("ChannelName", "");
      given.insert(name);
      auto d = declared.find(name);
      if (d == declared.end()) {
        std::vector<std::string> names;
        for (const auto& [n, _] : declared) names.push_back(n);
        return Invalid(
            fmt::format("Channel '{}' is not supported by algorithm {}; its channels are: {}", name,
                        algorithm_name, fmt::join(names, ", ")));
      }
      std::vector<std::string> types = Strings(*d->second, "SupportedContentTypes");
      if (c.contains("ContentType") && c["ContentType"].is_string() && !types.empty() &&
          !Contains(types, c["ContentType"].get<std::string>())) {
        return Invalid(fmt::format(
            "Content type '{}' is not supported for channel '{}' of algorithm {}; supported: {}",
            c["ContentType"].get<std::string>(), name, algorithm_name, fmt::join(types, ", ")));
      }
      std::string mode = c.value("InputMode", std::string(default_mode));
      std::vector<std::string> modes = Strings(*d->second, "SupportedInputModes");
      if (!modes.empty() && !Contains(modes, mode)) {
        return Invalid(fmt::format(
            "Input mode '{}' is not supported for channel '{}' of algorithm {}; supported: {}",
            mode, name, algorithm_name, fmt::join(modes, ", ")));
      }
    }
  }
  for (const auto& [name, c] : declared) {
    if (c->value("IsRequired", false) && !given.count(name)) {
      return Invalid(fmt::format("Algorithm {} requires the channel '{}'", algorithm_name, name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckHyperParameter(const Json& declared, std::string_view value,
                                 std::string_view algorithm_name) {
  std::string name = declared.value("Name", "");
  std::string type = declared.value("Type", "FreeText");
  const Json range = declared.value("Range", Json::object());
  if (type == "Integer") {
    long long v = 0;
    if (!ParseInteger(value, &v)) {
      return Invalid(fmt::format("Hyperparameter '{}' of algorithm {} must be an integer, got '{}'",
                                 name, algorithm_name, value));
    }
    const Json r = range.value("IntegerParameterRangeSpecification", Json::object());
    long long lo = 0, hi = 0;
    bool has_lo = ParseInteger(Bound(r, "MinValue"), &lo);
    bool has_hi = ParseInteger(Bound(r, "MaxValue"), &hi);
    if ((has_lo && v < lo) || (has_hi && v > hi)) {
      return Invalid(
          fmt::format("Hyperparameter '{}' of algorithm {} is {}, outside its range [{}, {}]", name,
                      algorithm_name, value, Bound(r, "MinValue"), Bound(r, "MaxValue")));
    }
  } else if (type == "Continuous") {
    double v = 0;
    if (!ParseNumber(value, &v)) {
      return Invalid(fmt::format("Hyperparameter '{}' of algorithm {} must be a number, got '{}'",
                                 name, algorithm_name, value));
    }
    const Json r = range.value("ContinuousParameterRangeSpecification", Json::object());
    double lo = 0, hi = 0;
    bool has_lo = ParseNumber(Bound(r, "MinValue"), &lo);
    bool has_hi = ParseNumber(Bound(r, "MaxValue"), &hi);
    if ((has_lo && v < lo) || (has_hi && v > hi)) {
      return Invalid(
          fmt::format("Hyperparameter '{}' of algorithm {} is {}, outside its range [{}, {}]", name,
                      algorithm_name, value, Bound(r, "MinValue"), Bound(r, "MaxValue")));
    }
  } else if (type == "Categorical") {
    const Json r = range.value("CategoricalParameterRangeSpecification", Json::object());
    std::vector<std::string> values = Strings(r, "Values");
    if (!values.empty() && !Contains(values, value)) {
      return Invalid(
          fmt::format("Hyperparameter '{}' of algorithm {} must be one of: {} (got '{}')", name,
                      algorithm_name, fmt::join(values, ", "), value));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> ResolveAlgorithmTraining(const Json& in, const Json& training_spec,
                                              std::string_view algorithm_name,
                                              std::string_view image) {
  const Json resources = in.value("ResourceConfig", Json::object());
  std::string type = resources.value("InstanceType", "");
  std::vector<std::string> types = Strings(training_spec, "SupportedTrainingInstanceTypes");
  if (!types.empty() && !Contains(types, type)) {
    return Invalid(fmt::format(
        "Instance type {} is not supported by algorithm {}; supported training instance types: {}",
        type, algorithm_name, fmt::join(types, ", ")));
  }
  if (resources.value("InstanceCount", 1) > 1 &&
      !training_spec.value("SupportsDistributedTraining", false)) {
    return Invalid(fmt::format(
        "Algorithm {} does not support distributed training: use InstanceCount 1", algorithm_name));
  }

  std::map<std::string, const Json*> declared;
  if (auto it = training_spec.find("SupportedHyperParameters"); it != training_spec.end()) {
    for (const Json& h : *it) {
      if (h.is_object() && h.contains("Name")) declared[h["Name"].get<std::string>()] = &h;
    }
  }
  Json hyper = in.value("HyperParameters", Json::object());
  for (auto& [k, v] : hyper.items()) {
    auto d = declared.find(k);
    if (d == declared.end()) {
      return Invalid(
          fmt::format("Hyperparameter '{}' is not supported by algorithm {}", k, algorithm_name));
    }
    if (!v.is_string()) {
      return Invalid(fmt::format("Hyperparameter '{}' must be a string", k));
    }
    RETURN_IF_ERROR(CheckHyperParameter(*d->second, v.get<std::string>(), algorithm_name));
  }
  for (const auto& [name, h] : declared) {
    if (hyper.contains(name)) continue;
    if (h->contains("DefaultValue") && (*h)["DefaultValue"].is_string()) {
      hyper[name] = (*h)["DefaultValue"];
    } else if (h->value("IsRequired", false)) {
      return Invalid(
          fmt::format("Algorithm {} requires the hyperparameter '{}'", algorithm_name, name));
    }
  }

  const Json algo_in = in.value("AlgorithmSpecification", Json::object());
  std::string mode = algo_in.value("TrainingInputMode", "File");
  RETURN_IF_ERROR(CheckChannels(in, training_spec, algorithm_name, mode));

  Json out = in;
  Json algo = {{"TrainingImage", std::string(image)}, {"TrainingInputMode", mode}};
  if (training_spec.contains("MetricDefinitions") &&
      training_spec["MetricDefinitions"].is_array() &&
      !training_spec["MetricDefinitions"].empty()) {
    algo["MetricDefinitions"] = training_spec["MetricDefinitions"];
  }
  out["AlgorithmSpecification"] = algo;
  out["HyperParameters"] = hyper;
  out["EnableNetworkIsolation"] = true;
  return out;
}

}  // namespace mercato::commerce
