#include "hosting/hosting_service.h"

#include <algorithm>
#include <set>

#include "base/crypto.h"
#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/list_page.h"

namespace mercato::hosting {
using internal::ListItem;
using internal::PageOf;
namespace {

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

// "ModelName" → "modelName", as AWS names members in validation messages.
std::string MemberPath(std::string_view field) {
  std::string s(field);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

absl::StatusOr<std::string> RequiredString(const Json& in, std::string_view field) {
  auto it = in.find(std::string(field));
  if (it == in.end() || it->is_null()) {
    return Invalid(
        fmt::format("1 validation error detected: Value null at '{}' failed to "
                    "satisfy constraint: Member must not be null",
                    MemberPath(field)));
  }
  if (!it->is_string()) {
    return Invalid(fmt::format("Value at '{}' must be a string", MemberPath(field)));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> RequiredName(const Json& in, std::string_view field) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(in, field));
  if (!IsValidResourceName(name)) {
    return Invalid(fmt::format(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}",
        name, MemberPath(field)));
  }
  return name;
}

absl::StatusOr<std::optional<absl::Time>> OptionalTime(const Json& in, std::string_view field) {
  auto it = in.find(std::string(field));
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return Invalid(fmt::format("{} must be a timestamp", field));
  return absl::FromUnixMicros(static_cast<int64_t>(it->get<double>() * 1e6));
}

absl::StatusOr<std::optional<SqlRow>> QueryOne(MetadataStore& store, std::string_view sql,
                                               const SqlParams& params) {
  ASSIGN_OR_RETURN(SqlRows rows, store.Query(sql, params));
  if (rows.empty()) return std::nullopt;
  return std::move(rows[0]);
}

}  // namespace

namespace internal {

// Applies SageMaker's list parameters: NameContains, CreationTime{Before,After},
// LastModifiedTime{Before,After}, StatusEquals, SortBy, SortOrder, MaxResults, NextToken.
absl::StatusOr<Json> PageOf(std::vector<ListItem> items, const Json& in, std::string_view key,
                            std::string_view default_sort) {
  std::string contains = in.value("NameContains", "");
  ASSIGN_OR_RETURN(auto created_before, OptionalTime(in, "CreationTimeBefore"));
  ASSIGN_OR_RETURN(auto created_after, OptionalTime(in, "CreationTimeAfter"));
  ASSIGN_OR_RETURN(auto modified_before, OptionalTime(in, "LastModifiedTimeBefore"));
  ASSIGN_OR_RETURN(auto modified_after, OptionalTime(in, "LastModifiedTimeAfter"));
  std::string status = in.value("StatusEquals", "");
  std::string sort_by = in.value("SortBy", std::string(default_sort));
  std::string order = in.value("SortOrder", "Descending");
  if (sort_by != "Name" && sort_by != "CreationTime" && sort_by != "Status") {
    return Invalid(fmt::format("Invalid SortBy value '{}'", sort_by));
  }
  if (order != "Ascending" && order != "Descending") {
    return Invalid(fmt::format("Invalid SortOrder value '{}'", order));
  }
  int max_results = 10;
  if (in.contains("MaxResults")) {
    if (!in["MaxResults"].is_number_integer()) return Invalid("MaxResults must be an integer");
    max_results = in["MaxResults"].get<int>();
    if (max_results < 1 || max_results > 100) {
      return Invalid(
          fmt::format("1 validation error detected: Value '{}' at 'maxResults' failed to satisfy "
                      "constraint: Member must have value between 1 and 100",
                      max_results));
    }
  }
  size_t offset = 0;
  if (in.contains("NextToken") && in["NextToken"].is_string()) {
    auto decoded = Base64Decode(in["NextToken"].get<std::string>());
    if (!decoded.ok() || decoded->rfind("o:", 0) != 0) return Invalid("Invalid NextToken");
    offset = std::strtoull(decoded->c_str() + 2, nullptr, 10);
  }
  std::vector<ListItem> kept;
  for (auto& it : items) {
    if (!contains.empty()) {
      std::string lower_name = it.name, lower_sub = contains;
      for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto& c : lower_sub) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower_name.find(lower_sub) == std::string::npos) continue;
    }
    if (created_before && it.created >= Micros(*created_before)) continue;
    if (created_after && it.created <= Micros(*created_after)) continue;
    if (modified_before && it.modified >= Micros(*modified_before)) continue;
    if (modified_after && it.modified <= Micros(*modified_after)) continue;
    if (!status.empty() && it.status != status) continue;
    kept.push_back(std::move(it));
  }
  std::stable_sort(kept.begin(), kept.end(), [&](const ListItem& a, const ListItem& b) {
    if (sort_by == "Name") return a.name < b.name;
    if (sort_by == "Status") return a.status < b.status;
    return a.created < b.created;
  });
  if (order == "Descending") std::reverse(kept.begin(), kept.end());
  Json out = {{std::string(key), Json::array()}};
  for (size_t i = offset; i < kept.size() && i < offset + max_results; ++i) {
    out[std::string(key)].push_back(kept[i].summary);
  }
  if (offset + max_results < kept.size()) {
    out["NextToken"] = Base64Encode("o:" + std::to_string(offset + max_results));
  }
  return out;
}

// What DescribeModel shows of a stored container: a model package's container shows only
// what the caller gave (never the resolved image or model data location).
Json PublicContainer(const Json& c) {
  if (!c.contains("ModelPackageName")) return c;
  Json out = {{"ModelPackageName", c["ModelPackageName"]}};
  if (c.contains("ContainerHostname")) out["ContainerHostname"] = c["ContainerHostname"];
  if (c.contains("BuyerEnvironment")) out["Environment"] = c["BuyerEnvironment"];
  return out;
}

}  // namespace internal

HostingService::HostingService(MetadataStore& store, const Clock& clock, HostingOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

std::string HostingService::Arn(std::string_view account, std::string_view type,
                                std::string_view name) const {
  // SageMaker lower-cases names in ARNs.
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return MakeArn("sagemaker", options_.region, account, type, lower);
}

// ---- models ----

std::string ImageAccountOf(const Json& container, std::string_view account) {
  if (auto it = container.find("ImageAccount"); it != container.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return std::string(account);
}

std::string ModelDataAccountOf(const Json& container, std::string_view account) {
  if (auto it = container.find("ModelDataAccount"); it != container.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return std::string(account);
}

absl::Status CheckContainerInstanceType(const Json& container, std::string_view which,
                                        std::string_view type) {
  auto constraints = container.find("Constraints");
  if (constraints == container.end() || !constraints->is_object()) return absl::OkStatus();
  auto list = constraints->find(std::string(which));
  if (list == constraints->end() || !list->is_array() || list->empty()) return absl::OkStatus();
  std::vector<std::string> supported;
  for (const Json& t : *list) {
    if (t.is_string() && t.get<std::string>() == type) return absl::OkStatus();
    if (t.is_string()) supported.push_back(t.get<std::string>());
  }
  return Invalid(fmt::format(
      "Instance type {} is not supported by model package {}; supported {} instance types: {}",
      type, container.value("ModelPackageName", ""),
      which == "TransformInstanceTypes" ? "transform" : "real-time", fmt::join(supported, ", ")));
}

absl::Status HostingService::CheckContainerUse(std::string_view account,
                                               const Json& container) const {
  if (!container.contains("ModelPackageName")) return absl::OkStatus();
  if (!package_hooks_.check_use) {
    return Invalid("Model packages are not available on this server");
  }
  return package_hooks_.check_use(account, container);
}

absl::StatusOr<Json> HostingService::ValidateContainer(std::string_view account, const Json& c) {
  if (!c.is_object()) return Invalid("A container definition must be an object");
  if (c.contains("ModelPackageName")) {
    if (c.contains("Image") || c.contains("ModelDataUrl")) {
      return Invalid(
          "A container that names a ModelPackageName must not also give Image or ModelDataUrl");
    }
    if (!c["ModelPackageName"].is_string() || c["ModelPackageName"].get<std::string>().empty()) {
      return Invalid("ModelPackageName must be a non-empty string");
    }
    if (!package_hooks_.resolve) {
      return Invalid("Model packages are not available on this server");
    }
    ASSIGN_OR_RETURN(Json out, package_hooks_.resolve(account, c));
    if (c.contains("ContainerHostname")) out["ContainerHostname"] = c["ContainerHostname"];
    if (c.contains("Environment")) {
      if (!c["Environment"].is_object()) return Invalid("Environment must be a map");
      Json env = out.value("Environment", Json::object());
      for (auto& [k, v] : c["Environment"].items()) {
        if (!v.is_string()) return Invalid("Environment keys and values must be strings");
        env[k] = v;
      }
      out["Environment"] = env;
      out["BuyerEnvironment"] = c["Environment"];
    }
    return out;
  }
  ASSIGN_OR_RETURN(std::string image, RequiredString(c, "Image"));
  if (image.empty() || image.size() > 255 || image.find_first_of(" \t\r\n") != std::string::npos) {
    return Invalid(fmt::format("Invalid image reference '{}'", image));
  }
  if (options_.check_image) {
    absl::Status s = options_.check_image(account, image);
    if (!s.ok()) {
      return Invalid(fmt::format("Requested image {} not found or not accessible: {}", image,
                                 std::string(s.message())));
    }
  }
  Json out = {{"Image", image}};
  if (c.contains("ContainerHostname")) out["ContainerHostname"] = c["ContainerHostname"];
  if (c.contains("Mode")) {
    if (c["Mode"] != "SingleModel") return Invalid("Only Mode SingleModel is supported");
    out["Mode"] = c["Mode"];
  }
  if (c.contains("ModelDataUrl")) {
    if (!c["ModelDataUrl"].is_string()) return Invalid("ModelDataUrl must be a string");
    std::string url = c["ModelDataUrl"];
    if (url.rfind("s3://", 0) != 0 || url.size() > 1024 || url.find('/', 5) == std::string::npos ||
        url.find('/', 5) == 5 || url.back() == '/') {
      return Invalid(fmt::format(
          "ModelDataUrl '{}' is invalid: give s3://BUCKET/KEY of a .tar.gz in this server's S3",
          url));
    }
    out["ModelDataUrl"] = url;
  }
  if (c.contains("Environment")) {
    if (!c["Environment"].is_object()) return Invalid("Environment must be a map");
    for (auto& [k, v] : c["Environment"].items()) {
      if (!v.is_string() || k.empty() || k.size() > 1024) {
        return Invalid("Environment keys and values must be strings");
      }
    }
    out["Environment"] = c["Environment"];
  }
  return out;
}

absl::StatusOr<Json> HostingService::CreateModel(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in, "ModelName"));
  Json containers = Json::array();
  if (in.contains("PrimaryContainer")) {
    ASSIGN_OR_RETURN(Json c, ValidateContainer(account, in["PrimaryContainer"]));
    containers.push_back(std::move(c));
  } else if (in.contains("Containers") && in["Containers"].is_array()) {
    if (in["Containers"].size() > 1) {
      for (const Json& c : in["Containers"]) {
        if (c.is_object() && c.contains("ModelPackageName")) {
          return Invalid(
              "A model that uses a model package cannot combine it with other containers "
              "(marketplace models run alone: no inference pipelines across containers)");
        }
      }
    }
    if (in["Containers"].size() != 1) {
      return Invalid("Inference pipelines (more than one container) are not supported");
    }
    ASSIGN_OR_RETURN(Json c, ValidateContainer(account, in["Containers"][0]));
    containers.push_back(std::move(c));
  } else {
    return Invalid("Either PrimaryContainer or Containers must be provided");
  }
  Json spec = {{"Containers", containers},
               {"UsesPrimaryContainer", in.contains("PrimaryContainer")}};
  if (in.contains("ExecutionRoleArn")) spec["ExecutionRoleArn"] = in["ExecutionRoleArn"];
  if (in.contains("EnableNetworkIsolation")) {
    spec["EnableNetworkIsolation"] = in["EnableNetworkIsolation"];
  }
  // Model packages always run isolated (as SageMaker forces for marketplace models); the
  // sandbox has no route out in any case.
  if (containers[0].contains("ModelPackageName")) spec["EnableNetworkIsolation"] = true;
  std::string arn = Arn(account, "model", name);
  auto inserted = store_.Exec(
      "INSERT INTO models (account_id, name, arn, spec, created_at) VALUES (?, ?, ?, ?, ?)",
      {std::string(account), name, arn, spec.dump(), Micros(clock_.Now())});
  if (absl::IsAlreadyExists(inserted.status())) {
    return Invalid(fmt::format("Cannot create already existing model \"{}\".", arn));
  }
  RETURN_IF_ERROR(inserted.status());
  return Json{{"ModelArn", arn}};
}

absl::StatusOr<Json> HostingService::DescribeModel(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(in, "ModelName"));
  ASSIGN_OR_RETURN(auto row, QueryOne(store_,
                                      "SELECT arn, spec, created_at FROM models WHERE "
                                      "account_id = ? AND name = ?",
                                      {std::string(account), name}));
  if (!row) {
    return Invalid(fmt::format("Could not find model \"{}\".", Arn(account, "model", name)));
  }
  ASSIGN_OR_RETURN(Json spec, ParseJson(row->Text(1)));
  Json out = {
      {"ModelName", name}, {"ModelArn", row->Text(0)}, {"CreationTime", Seconds(row->Int(2))}};
  Json shown = Json::array();
  for (const Json& c : spec["Containers"]) shown.push_back(internal::PublicContainer(c));
  if (spec.value("UsesPrimaryContainer", true)) {
    out["PrimaryContainer"] = shown[0];
  } else {
    out["Containers"] = shown;
  }
  if (spec.contains("ExecutionRoleArn")) out["ExecutionRoleArn"] = spec["ExecutionRoleArn"];
  out["EnableNetworkIsolation"] = spec.value("EnableNetworkIsolation", false);
  return out;
}

absl::StatusOr<Json> HostingService::ModelContainer(std::string_view account,
                                                    std::string_view model_name) {
  ASSIGN_OR_RETURN(auto row,
                   QueryOne(store_, "SELECT spec FROM models WHERE account_id = ? AND name = ?",
                            {std::string(account), std::string(model_name)}));
  if (!row) {
    return Invalid(fmt::format("Could not find model \"{}\".", Arn(account, "model", model_name)));
  }
  ASSIGN_OR_RETURN(Json spec, ParseJson(row->Text(0)));
  return spec["Containers"][0];
}

absl::StatusOr<Json> HostingService::ListModels(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store_.Query("SELECT name, arn, created_at FROM models WHERE account_id = ?",
                                {std::string(account)}));
  std::vector<ListItem> items;
  for (const auto& r : rows) {
    items.push_back(
        {r.Text(0),
         r.Int(2),
         r.Int(2),
         "",
         {{"ModelName", r.Text(0)}, {"ModelArn", r.Text(1)}, {"CreationTime", Seconds(r.Int(2))}}});
  }
  if (in.value("SortBy", "") == "Status") return Invalid("Invalid SortBy value 'Status'");
  return PageOf(std::move(items), in, "Models", "CreationTime");
}

absl::StatusOr<Json> HostingService::DeleteModel(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(in, "ModelName"));
  ASSIGN_OR_RETURN(int64_t n, store_.Exec("DELETE FROM models WHERE account_id = ? AND name = ?",
                                          {std::string(account), name}));
  if (n == 0) {
    return Invalid(fmt::format("Could not find model \"{}\".", Arn(account, "model", name)));
  }
  return Json::object();
}

// ---- endpoint configs ----

absl::StatusOr<Json> HostingService::CreateEndpointConfig(std::string_view account,
                                                          const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredName(in, "EndpointConfigName"));
  if (!in.contains("ProductionVariants") || !in["ProductionVariants"].is_array() ||
      in["ProductionVariants"].empty()) {
    return Invalid(
        "1 validation error detected: Value null at 'productionVariants' failed to satisfy "
        "constraint: Member must not be null");
  }
  if (in["ProductionVariants"].size() > 10) {
    return Invalid("ProductionVariants: at most 10 variants");
  }
  Json variants = Json::array();
  std::set<std::string> seen;
  for (const Json& v : in["ProductionVariants"]) {
    if (!v.is_object()) return Invalid("Each production variant must be an object");
    ASSIGN_OR_RETURN(std::string vname, RequiredName(v, "VariantName"));
    if (!seen.insert(vname).second) {
      return Invalid(fmt::format("Variant name '{}' is used more than once", vname));
    }
    if (v.contains("ServerlessConfig")) {
      return Invalid("Serverless variants are not supported; give InstanceType");
    }
    ASSIGN_OR_RETURN(std::string model, RequiredString(v, "ModelName"));
    ASSIGN_OR_RETURN(auto mrow, QueryOne(store_,
                                         "SELECT arn, spec FROM models WHERE account_id = ? AND "
                                         "name = ?",
                                         {std::string(account), model}));
    if (!mrow) {
      return Invalid(fmt::format("Could not find model \"{}\".", Arn(account, "model", model)));
    }
    ASSIGN_OR_RETURN(std::string type, RequiredString(v, "InstanceType"));
    if (!options_.instance_types.Find(type).ok()) {
      return Invalid(fmt::format(
          "1 validation error detected: Value '{}' at 'productionVariants.1.member.instanceType' "
          "failed to satisfy constraint: Member must be an instance type this server offers "
          "(e.g. ml.m5.large, ml.t2.medium, ml.c5.xlarge)",
          type));
    }
    ASSIGN_OR_RETURN(Json mspec, ParseJson(mrow->Text(1)));
    for (const Json& c : mspec["Containers"]) {
      RETURN_IF_ERROR(CheckContainerInstanceType(c, "RealtimeInstanceTypes", type));
    }
    if (!v.contains("InitialInstanceCount") || !v["InitialInstanceCount"].is_number_integer()) {
      return Invalid(
          "1 validation error detected: Value null at "
          "'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: "
          "Member must not be null");
    }
    int count = v["InitialInstanceCount"];
    if (count < 1) return Invalid("InitialInstanceCount must be at least 1");
    if (count > options_.max_instances_per_variant) {
      return AwsError(absl::StatusCode::kResourceExhausted, "ResourceLimitExceeded",
                      fmt::format("InitialInstanceCount {} exceeds the limit of {} instances "
                                  "per variant",
                                  count, options_.max_instances_per_variant));
    }
    double weight = 1.0;
    if (v.contains("InitialVariantWeight")) {
      if (!v["InitialVariantWeight"].is_number()) return Invalid("InitialVariantWeight: number");
      weight = v["InitialVariantWeight"];
      if (weight < 0) return Invalid("InitialVariantWeight must not be negative");
    }
    int timeout = 240;
    if (v.contains("ContainerStartupHealthCheckTimeoutInSeconds")) {
      if (!v["ContainerStartupHealthCheckTimeoutInSeconds"].is_number_integer()) {
        return Invalid("ContainerStartupHealthCheckTimeoutInSeconds must be an integer");
      }
      timeout = v["ContainerStartupHealthCheckTimeoutInSeconds"];
      if (timeout < 1 || timeout > 3600) {
        return Invalid("ContainerStartupHealthCheckTimeoutInSeconds must be 1..3600");
      }
    }
    Json out = {{"VariantName", vname},
                {"ModelName", model},
                {"InitialInstanceCount", count},
                {"InstanceType", type},
                {"InitialVariantWeight", weight}};
    if (v.contains("ContainerStartupHealthCheckTimeoutInSeconds")) {
      out["ContainerStartupHealthCheckTimeoutInSeconds"] = timeout;
    }
    variants.push_back(std::move(out));
  }
  Json spec = {{"ProductionVariants", variants}};
  std::string arn = Arn(account, "endpoint-config", name);
  auto inserted = store_.Exec(
      "INSERT INTO endpoint_configs (account_id, name, arn, spec, created_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {std::string(account), name, arn, spec.dump(), Micros(clock_.Now())});
  if (absl::IsAlreadyExists(inserted.status())) {
    return Invalid(
        fmt::format("Cannot create already existing endpoint configuration \"{}\".", arn));
  }
  RETURN_IF_ERROR(inserted.status());
  return Json{{"EndpointConfigArn", arn}};
}

absl::StatusOr<Json> HostingService::DescribeEndpointConfig(std::string_view account,
                                                            const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(in, "EndpointConfigName"));
  ASSIGN_OR_RETURN(auto row, QueryOne(store_,
                                      "SELECT arn, spec, created_at FROM endpoint_configs "
                                      "WHERE account_id = ? AND name = ?",
                                      {std::string(account), name}));
  if (!row) {
    return Invalid(fmt::format("Could not find endpoint configuration \"{}\".",
                               Arn(account, "endpoint-config", name)));
  }
  ASSIGN_OR_RETURN(Json spec, ParseJson(row->Text(1)));
  return Json{{"EndpointConfigName", name},
              {"EndpointConfigArn", row->Text(0)},
              {"ProductionVariants", spec["ProductionVariants"]},
              {"CreationTime", Seconds(row->Int(2))},
              {"EnableNetworkIsolation", true}};
}

absl::StatusOr<Json> HostingService::ListEndpointConfigs(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT name, arn, created_at FROM "
                                              "endpoint_configs WHERE account_id = ?",
                                              {std::string(account)}));
  std::vector<ListItem> items;
  for (const auto& r : rows) {
    items.push_back({r.Text(0),
                     r.Int(2),
                     r.Int(2),
                     "",
                     {{"EndpointConfigName", r.Text(0)},
                      {"EndpointConfigArn", r.Text(1)},
                      {"CreationTime", Seconds(r.Int(2))}}});
  }
  if (in.value("SortBy", "") == "Status") return Invalid("Invalid SortBy value 'Status'");
  return PageOf(std::move(items), in, "EndpointConfigs", "CreationTime");
}

absl::StatusOr<Json> HostingService::DeleteEndpointConfig(std::string_view account,
                                                          const Json& in) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(in, "EndpointConfigName"));
  ASSIGN_OR_RETURN(int64_t n,
                   store_.Exec("DELETE FROM endpoint_configs WHERE account_id = ? AND name = ?",
                               {std::string(account), name}));
  if (n == 0) {
    return Invalid(fmt::format("Could not find endpoint configuration \"{}\".",
                               Arn(account, "endpoint-config", name)));
  }
  return Json::object();
}

}  // namespace mercato::hosting
