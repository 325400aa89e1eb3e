// HostingService's endpoint actions and the endpoint-record helpers the controller uses.
#include <map>

#include "base/errors.h"
#include "base/ids.h"
#include "base/status.h"
#include "fmt/format.h"
#include "hosting/hosting_service.h"
#include "hosting/list_page.h"

namespace mercato::hosting {
using internal::ListItem;
using internal::PageOf;
namespace {

absl::Status Invalid(std::string_view message) {
  return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException", message);
}

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

absl::StatusOr<std::string> Required(const Json& in, std::string_view field, bool name_rule) {
  auto it = in.find(std::string(field));
  std::string member(field);
  member[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(member[0])));
  if (it == in.end() || !it->is_string()) {
    return Invalid(
        fmt::format("1 validation error detected: Value null at '{}' failed to "
                    "satisfy constraint: Member must not be null",
                    member));
  }
  std::string v = *it;
  if (name_rule && !IsValidResourceName(v)) {
    return Invalid(fmt::format(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}",
        v, member));
  }
  return v;
}

constexpr char kEndpointColumns[] =
    "account_id, name, arn, config_name, status, failure_reason, spec, pending_spec, "
    "created_at, last_modified";

absl::StatusOr<EndpointRecord> FromRow(const SqlRow& r) {
  EndpointRecord e;
  e.account_id = r.Text(0);
  e.name = r.Text(1);
  e.arn = r.Text(2);
  e.config_name = r.Text(3);
  e.status = r.Text(4);
  e.failure_reason = r.Text(5);
  ASSIGN_OR_RETURN(e.spec, ParseJson(r.Text(6)));
  if (!r.IsNull(7) && !r.Text(7).empty()) {
    ASSIGN_OR_RETURN(e.pending_spec, ParseJson(r.Text(7)));
  }
  e.created_at = r.Int(8);
  e.last_modified = r.Int(9);
  return e;
}

absl::StatusOr<std::optional<EndpointRecord>> LoadEndpoint(MetadataStore& store,
                                                           std::string_view account,
                                                           std::string_view name) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store.Query(fmt::format("SELECT {} FROM endpoints WHERE account_id = ? AND "
                                           "name = ?",
                                           kEndpointColumns),
                               {std::string(account), std::string(name)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(EndpointRecord e, FromRow(rows[0]));
  return e;
}

}  // namespace

absl::StatusOr<std::vector<EndpointRecord>> LoadEndpoints(MetadataStore& store) {
  ASSIGN_OR_RETURN(SqlRows rows,
                   store.Query(fmt::format("SELECT {} FROM endpoints", kEndpointColumns)));
  std::vector<EndpointRecord> out;
  for (const auto& r : rows) {
    ASSIGN_OR_RETURN(EndpointRecord e, FromRow(r));
    out.push_back(std::move(e));
  }
  return out;
}

absl::Status SetEndpointState(MetadataStore& store, const Clock& clock, std::string_view account,
                              std::string_view name, std::string_view status,
                              std::string_view failure_reason, const Json* spec, bool clear_pending,
                              const std::string* config_name) {
  std::string sql = "UPDATE endpoints SET status = ?, failure_reason = ?, last_modified = ?";
  SqlParams params = {std::string(status), std::string(failure_reason),
                      absl::ToUnixMicros(clock.Now())};
  if (spec != nullptr) {
    sql += ", spec = ?";
    params.push_back(spec->dump());
  }
  if (clear_pending) sql += ", pending_spec = NULL";
  if (config_name != nullptr) {
    sql += ", config_name = ?";
    params.push_back(*config_name);
  }
  sql += " WHERE account_id = ? AND name = ?";
  params.push_back(std::string(account));
  params.push_back(std::string(name));
  return store.Exec(sql, params).status();
}

absl::Status DeleteEndpointRecord(MetadataStore& store, std::string_view account,
                                  std::string_view name) {
  return store
      .Exec("DELETE FROM endpoints WHERE account_id = ? AND name = ?",
            {std::string(account), std::string(name)})
      .status();
}

absl::StatusOr<Json> HostingService::BuildDeploymentSpec(std::string_view account,
                                                         std::string_view config_name) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT spec FROM endpoint_configs WHERE "
                                              "account_id = ? AND name = ?",
                                              {std::string(account), std::string(config_name)}));
  if (rows.empty()) {
    return Invalid(fmt::format("Could not find endpoint configuration \"{}\".",
                               Arn(account, "endpoint-config", config_name)));
  }
  ASSIGN_OR_RETURN(Json config, ParseJson(rows[0].Text(0)));
  Json variants = Json::array();
  for (const Json& v : config["ProductionVariants"]) {
    std::string model = v["ModelName"];
    ASSIGN_OR_RETURN(SqlRows mrows, store_.Query("SELECT spec FROM models WHERE account_id = ? "
                                                 "AND name = ?",
                                                 {std::string(account), model}));
    if (mrows.empty()) {
      return Invalid(fmt::format("Could not find model \"{}\".", Arn(account, "model", model)));
    }
    ASSIGN_OR_RETURN(Json mspec, ParseJson(mrows[0].Text(0)));
    RETURN_IF_ERROR(CheckContainerUse(account, mspec["Containers"][0]));
    RETURN_IF_ERROR(CheckContainerInstanceType(mspec["Containers"][0], "RealtimeInstanceTypes",
                                               v["InstanceType"].get<std::string>()));
    variants.push_back(
        {{"VariantName", v["VariantName"]},
         {"ModelName", model},
         {"InstanceType", v["InstanceType"]},
         {"DesiredInstanceCount", v["InitialInstanceCount"]},
         {"DesiredWeight", v["InitialVariantWeight"]},
         {"StartupTimeoutSeconds", v.value("ContainerStartupHealthCheckTimeoutInSeconds", 240)},
         {"Container", mspec["Containers"][0]}});
  }
  return Json{{"EndpointConfigName", std::string(config_name)}, {"Variants", variants}};
}

absl::StatusOr<Json> HostingService::CreateEndpoint(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, Required(in, "EndpointName", true));
  ASSIGN_OR_RETURN(std::string config, Required(in, "EndpointConfigName", false));
  ASSIGN_OR_RETURN(Json spec, BuildDeploymentSpec(account, config));
  std::string arn = Arn(account, "endpoint", name);
  ASSIGN_OR_RETURN(SqlRows count, store_.Query("SELECT COUNT(*) FROM endpoints WHERE "
                                               "account_id = ?",
                                               {std::string(account)}));
  if (!count.empty() && count[0].Int(0) >= options_.max_endpoints_per_account) {
    return AwsError(absl::StatusCode::kResourceExhausted, "ResourceLimitExceeded",
                    fmt::format("The account-level service limit 'Number of endpoints' is {}",
                                options_.max_endpoints_per_account));
  }
  int64_t now = absl::ToUnixMicros(clock_.Now());
  auto inserted =
      store_.Exec(fmt::format("INSERT INTO endpoints ({}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                              kEndpointColumns),
                  {std::string(account), name, arn, config, std::string(kCreating), std::string(),
                   spec.dump(), now, now});
  if (absl::IsAlreadyExists(inserted.status())) {
    return Invalid(fmt::format("Cannot create already existing endpoint \"{}\".", arn));
  }
  RETURN_IF_ERROR(inserted.status());
  Changed();
  return Json{{"EndpointArn", arn}};
}

absl::StatusOr<Json> HostingService::DescribeEndpoint(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, Required(in, "EndpointName", false));
  ASSIGN_OR_RETURN(auto e, LoadEndpoint(store_, account, name));
  if (!e) {
    return Invalid(fmt::format("Could not find endpoint \"{}\".", Arn(account, "endpoint", name)));
  }
  Json runtime = view_ != nullptr ? view_->VariantRuntime(account, name) : Json();
  Json variants = Json::array();
  for (const Json& v : e->spec["Variants"]) {
    std::string vname = v["VariantName"];
    Json summary = {{"VariantName", vname},
                    {"DesiredWeight", v["DesiredWeight"]},
                    {"DesiredInstanceCount", v["DesiredInstanceCount"]},
                    {"CurrentWeight", v["DesiredWeight"]},
                    {"CurrentInstanceCount", 0}};
    if (runtime.is_object() && runtime.contains(vname)) {
      for (auto& [k, val] : runtime[vname].items()) summary[k] = val;
    }
    variants.push_back(std::move(summary));
  }
  Json out = {{"EndpointName", e->name},
              {"EndpointArn", e->arn},
              {"EndpointConfigName", e->config_name},
              {"ProductionVariants", variants},
              {"EndpointStatus", e->status},
              {"CreationTime", Seconds(e->created_at)},
              {"LastModifiedTime", Seconds(e->last_modified)}};
  if (!e->failure_reason.empty()) out["FailureReason"] = e->failure_reason;
  if (!e->pending_spec.is_null()) {
    out["PendingDeploymentSummary"] = {
        {"EndpointConfigName", e->pending_spec.value("EndpointConfigName", "")}};
  }
  return out;
}

absl::StatusOr<Json> HostingService::ListEndpoints(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(SqlRows rows, store_.Query("SELECT name, arn, status, created_at, "
                                              "last_modified FROM endpoints WHERE account_id = ?",
                                              {std::string(account)}));
  std::vector<ListItem> items;
  for (const auto& r : rows) {
    items.push_back({r.Text(0),
                     r.Int(3),
                     r.Int(4),
                     r.Text(2),
                     {{"EndpointName", r.Text(0)},
                      {"EndpointArn", r.Text(1)},
                      {"EndpointStatus", r.Text(2)},
                      {"CreationTime", Seconds(r.Int(3))},
                      {"LastModifiedTime", Seconds(r.Int(4))}}});
  }
  return PageOf(std::move(items), in, "Endpoints", "CreationTime");
}

absl::StatusOr<Json> HostingService::DeleteEndpoint(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, Required(in, "EndpointName", false));
  ASSIGN_OR_RETURN(int64_t n,
                   store_.Exec("UPDATE endpoints SET status = ?, last_modified = ? WHERE "
                               "account_id = ? AND name = ?",
                               {std::string(kDeleting), absl::ToUnixMicros(clock_.Now()),
                                std::string(account), name}));
  if (n == 0) {
    return Invalid(fmt::format("Could not find endpoint \"{}\".", Arn(account, "endpoint", name)));
  }
  Changed();
  return Json::object();
}

absl::StatusOr<Json> HostingService::UpdateEndpoint(std::string_view account, const Json& in) {
  ASSIGN_OR_RETURN(std::string name, Required(in, "EndpointName", false));
  ASSIGN_OR_RETURN(std::string config, Required(in, "EndpointConfigName", false));
  ASSIGN_OR_RETURN(auto e, LoadEndpoint(store_, account, name));
  if (!e) {
    return Invalid(fmt::format("Could not find endpoint \"{}\".", Arn(account, "endpoint", name)));
  }
  if (e->status != kInService) {
    return Invalid(fmt::format("Cannot update in-progress endpoint \"{}\".", e->arn));
  }
  ASSIGN_OR_RETURN(Json spec, BuildDeploymentSpec(account, config));
  if (in.value("RetainAllVariantProperties", false)) {
    std::map<std::string, Json> old;
    for (const Json& v : e->spec["Variants"]) old[v["VariantName"]] = v;
    for (Json& v : spec["Variants"]) {
      auto it = old.find(v["VariantName"]);
      if (it == old.end()) continue;
      v["DesiredInstanceCount"] = it->second["DesiredInstanceCount"];
      v["DesiredWeight"] = it->second["DesiredWeight"];
    }
  }
  RETURN_IF_ERROR(store_
                      .Exec("UPDATE endpoints SET status = ?, failure_reason = '', "
                            "pending_spec = ?, last_modified = ? WHERE account_id = ? AND "
                            "name = ?",
                            {std::string(kUpdating), spec.dump(), absl::ToUnixMicros(clock_.Now()),
                             std::string(account), name})
                      .status());
  Changed();
  return Json{{"EndpointArn", e->arn}};
}

absl::StatusOr<Json> HostingService::UpdateEndpointWeightsAndCapacities(std::string_view account,
                                                                        const Json& in) {
  ASSIGN_OR_RETURN(std::string name, Required(in, "EndpointName", false));
  ASSIGN_OR_RETURN(auto e, LoadEndpoint(store_, account, name));
  if (!e) {
    return Invalid(fmt::format("Could not find endpoint \"{}\".", Arn(account, "endpoint", name)));
  }
  if (e->status != kInService) {
    return Invalid(fmt::format("Cannot update in-progress endpoint \"{}\".", e->arn));
  }
  if (!in.contains("DesiredWeightsAndCapacities") ||
      !in["DesiredWeightsAndCapacities"].is_array() || in["DesiredWeightsAndCapacities"].empty()) {
    return Invalid(
        "1 validation error detected: Value null at 'desiredWeightsAndCapacities' failed to "
        "satisfy constraint: Member must not be null");
  }
  Json spec = e->spec;
  for (const Json& d : in["DesiredWeightsAndCapacities"]) {
    ASSIGN_OR_RETURN(std::string vname, Required(d, "VariantName", false));
    Json* target = nullptr;
    for (Json& v : spec["Variants"]) {
      if (v["VariantName"] == vname) target = &v;
    }
    if (target == nullptr) {
      return Invalid(
          fmt::format("The variant name(s) [{}] is/are not present in endpoint "
                      "\"{}\".",
                      vname, e->arn));
    }
    if (d.contains("DesiredWeight")) {
      if (!d["DesiredWeight"].is_number() || d["DesiredWeight"].get<double>() < 0) {
        return Invalid("DesiredWeight must be a non-negative number");
      }
      (*target)["DesiredWeight"] = d["DesiredWeight"];
    }
    if (d.contains("DesiredInstanceCount")) {
      if (!d["DesiredInstanceCount"].is_number_integer() || d["DesiredInstanceCount"] < 1) {
        return Invalid("DesiredInstanceCount must be an integer of at least 1");
      }
      if (d["DesiredInstanceCount"] > options_.max_instances_per_variant) {
        return AwsError(absl::StatusCode::kResourceExhausted, "ResourceLimitExceeded",
                        fmt::format("DesiredInstanceCount exceeds the limit of {} instances "
                                    "per variant",
                                    options_.max_instances_per_variant));
      }
      (*target)["DesiredInstanceCount"] = d["DesiredInstanceCount"];
    }
  }
  RETURN_IF_ERROR(SetEndpointState(store_, clock_, account, name, kUpdating, "", &spec, false));
  Changed();
  return Json{{"EndpointArn", e->arn}};
}

}  // namespace mercato::hosting
