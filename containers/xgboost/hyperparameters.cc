#include "hyperparameters.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "fmt/format.h"

namespace mercato::xgboost {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Kind { kInt, kFloat, kChoice, kMetricList, kText };
enum class Use { kBooster, kContainer, kIgnored };

struct Spec {
  const char* name;
  Kind kind;
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;
  std::vector<const char*> choices = {};
  Use use = Use::kBooster;
};

const std::vector<Spec>& Specs() {
  static const auto* specs = new std::vector<Spec>{
      {"num_round", Kind::kInt, 1, kInf, false, false, {}, Use::kContainer},
      {"num_class", Kind::kInt, 2},
      {"early_stopping_rounds", Kind::kInt, 1, kInf, false, false, {}, Use::kContainer},
      {"csv_weights", Kind::kInt, 0, 1, false, false, {}, Use::kContainer},
      {"objective",
       Kind::kChoice,
       -kInf,
       kInf,
       false,
       false,
       {"reg:squarederror", "reg:squaredlogerror", "reg:logistic", "reg:pseudohubererror",
        "reg:absoluteerror", "reg:gamma", "reg:tweedie", "binary:logistic", "binary:logitraw",
        "binary:hinge", "count:poisson", "survival:cox", "survival:aft", "multi:softmax",
        "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map"}},
      {"booster", Kind::kChoice, -kInf, kInf, false, false, {"gbtree", "gblinear", "dart"}},
      {"tree_method",
       Kind::kChoice,
       -kInf,
       kInf,
       false,
       false,
       {"auto", "exact", "approx", "hist"}},
      {"grow_policy", Kind::kChoice, -kInf, kInf, false, false, {"depthwise", "lossguide"}},
      {"sampling_method", Kind::kChoice, -kInf, kInf, false, false, {"uniform", "gradient_based"}},
      {"process_type", Kind::kChoice, -kInf, kInf, false, false, {"default", "update"}},
      {"sample_type", Kind::kChoice, -kInf, kInf, false, false, {"uniform", "weighted"}},
      {"normalize_type", Kind::kChoice, -kInf, kInf, false, false, {"tree", "forest"}},
      {"aft_loss_distribution",
       Kind::kChoice,
       -kInf,
       kInf,
       false,
       false,
       {"normal", "logistic", "extreme"}},
      {"eval_metric", Kind::kMetricList},
      {"eta", Kind::kFloat, 0, 1},
      {"gamma", Kind::kFloat, 0},
      {"max_depth", Kind::kInt, 0},
      {"min_child_weight", Kind::kFloat, 0},
      {"max_delta_step", Kind::kFloat, 0},
      {"subsample", Kind::kFloat, 0, 1, true, false},
      {"colsample_bytree", Kind::kFloat, 0, 1, true, false},
      {"colsample_bylevel", Kind::kFloat, 0, 1, true, false},
      {"colsample_bynode", Kind::kFloat, 0, 1, true, false},
      {"lambda", Kind::kFloat, 0},
      {"alpha", Kind::kFloat, 0},
      {"sketch_eps", Kind::kFloat, 0, 1, true, true},
      {"scale_pos_weight", Kind::kFloat, 0, kInf, true, false},
      {"max_leaves", Kind::kInt, 0},
      {"max_bin", Kind::kInt, 2},
      {"num_parallel_tree", Kind::kInt, 1},
      {"refresh_leaf", Kind::kInt, 0, 1},
      {"rate_drop", Kind::kFloat, 0, 1},
      {"one_drop", Kind::kInt, 0, 1},
      {"skip_drop", Kind::kFloat, 0, 1},
      {"tweedie_variance_power", Kind::kFloat, 1, 2, true, true},
      {"aft_loss_distribution_scale", Kind::kFloat, 0, kInf, true, false},
      {"base_score", Kind::kFloat},
      {"seed", Kind::kInt},
      {"nthread", Kind::kInt, 1},
      {"verbosity", Kind::kInt, 0, 3},
      {"updater", Kind::kText},
      {"monotone_constraints", Kind::kText},
      {"interaction_constraints", Kind::kText},
      // Set by SageMaker automatic model tuning; not an XGBoost parameter.
      {"_tuning_objective_metric", Kind::kText, -kInf, kInf, false, false, {}, Use::kIgnored},
  };
  return *specs;
}

const std::set<std::string>& KnownMetrics() {
  static const auto* metrics = new std::set<std::string>{"rmse",
                                                         "rmsle",
                                                         "mae",
                                                         "mape",
                                                         "mphe",
                                                         "logloss",
                                                         "error",
                                                         "merror",
                                                         "mlogloss",
                                                         "auc",
                                                         "aucpr",
                                                         "ndcg",
                                                         "map",
                                                         "poisson-nloglik",
                                                         "gamma-nloglik",
                                                         "cox-nloglik",
                                                         "gamma-deviance",
                                                         "tweedie-nloglik",
                                                         "aft-nloglik",
                                                         "interval-regression-accuracy",
                                                         "pre"};
  return *metrics;
}

std::string FormatBound(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

std::string RangeText(const Spec& s) {
  return fmt::format("{}{}, {}{}", s.lo_open || std::isinf(s.lo) ? "(" : "[", FormatBound(s.lo),
                     FormatBound(s.hi), s.hi_open || std::isinf(s.hi) ? ")" : "]");
}

absl::Status Invalid(const std::string& name, const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("Hyperparameter ", name, ": ", detail));
}

std::optional<double> ParseNumber(const std::string& text, bool integer) {
  if (text.empty()) return std::nullopt;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (*begin == '+') ++begin;
  if (integer) {
    long long v = 0;
    auto [ptr, ec] = std::from_chars(begin, end, v);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return static_cast<double>(v);
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Accepts "auc", "error@0.7", "ndcg@5", "map-", "ndcg@3-".
bool IsKnownMetric(std::string metric) {
  if (!metric.empty() && metric.back() == '-') metric.pop_back();
  if (auto at = metric.find('@'); at != std::string::npos) {
    std::string base = metric.substr(0, at);
    return (base == "error" || base == "ndcg" || base == "map" || base == "pre") &&
           ParseNumber(metric.substr(at + 1), false).has_value();
  }
  return KnownMetrics().count(metric) > 0;
}

absl::Status CheckValue(const Spec& spec, const std::string& value) {
  switch (spec.kind) {
    case Kind::kInt:
    case Kind::kFloat: {
      bool integer = spec.kind == Kind::kInt;
      auto v = ParseNumber(value, integer);
      if (!v) {
        return Invalid(spec.name, fmt::format("value {} is not {}", value,
                                              integer ? "an integer" : "a number"));
      }
      bool below = spec.lo_open ? *v <= spec.lo : *v < spec.lo;
      bool above = spec.hi_open ? *v >= spec.hi : *v > spec.hi;
      // Integers are C ints inside XGBoost.
      if (integer) {
        below = below || *v < std::numeric_limits<int>::min();
        above = above || *v > std::numeric_limits<int>::max();
      }
      if (below || above) {
        return Invalid(spec.name,
                       fmt::format("value {} is out of range {}", value, RangeText(spec)));
      }
      return absl::OkStatus();
    }
    case Kind::kChoice:
      for (const char* c : spec.choices) {
        if (value == c) return absl::OkStatus();
      }
      return Invalid(spec.name, fmt::format("value {} is not one of: {}", value,
                                            absl::StrJoin(spec.choices, ", ")));
    case Kind::kMetricList:
      for (absl::string_view m : absl::StrSplit(value, ',')) {
        if (!IsKnownMetric(std::string(m))) {
          return Invalid(spec.name,
                         fmt::format("unknown metric {} in value {}", std::string(m), value));
        }
      }
      return absl::OkStatus();
    case Kind::kText:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

const Spec* FindSpec(const std::string& name) {
  for (const Spec& s : Specs()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

}  // namespace

bool MetricIsMaximized(const std::string& metric) {
  std::string base = metric.substr(0, metric.find('@'));
  if (!base.empty() && base.back() == '-') base.pop_back();
  return base == "auc" || base == "aucpr" || base == "map" || base == "ndcg" || base == "pre" ||
         base == "interval-regression-accuracy";
}

absl::StatusOr<TrainingConfig> ValidateHyperparameters(
    const std::map<std::string, std::string>& hyperparameters) {
  TrainingConfig config;
  for (const auto& [name, value] : hyperparameters) {
    const Spec* spec = FindSpec(name);
    if (spec == nullptr) {
      return Invalid(name, "unknown hyperparameter for the XGBoost algorithm");
    }
    if (absl::Status s = CheckValue(*spec, value); !s.ok()) return s;
  }
  auto it = hyperparameters.find("num_round");
  if (it == hyperparameters.end()) return Invalid("num_round", "required but not set");
  config.num_round = std::stoi(it->second);
  if (auto o = hyperparameters.find("objective"); o != hyperparameters.end()) {
    config.objective = o->second;
  }
  bool multi = config.objective.rfind("multi:", 0) == 0;
  auto nc = hyperparameters.find("num_class");
  if (multi && nc == hyperparameters.end()) {
    return Invalid("num_class", "required for objective " + config.objective);
  }
  if (!multi && nc != hyperparameters.end()) {
    return Invalid("num_class", "only valid with objective multi:softmax or multi:softprob, not " +
                                    config.objective);
  }
  if (nc != hyperparameters.end()) config.num_class = std::stoi(nc->second);
  if (auto e = hyperparameters.find("early_stopping_rounds"); e != hyperparameters.end()) {
    config.early_stopping_rounds = std::stoi(e->second);
  }
  if (auto w = hyperparameters.find("csv_weights"); w != hyperparameters.end()) {
    config.csv_weights = w->second == "1";
  }
  for (const auto& [name, value] : hyperparameters) {
    const Spec* spec = FindSpec(name);
    if (spec->use != Use::kBooster) continue;
    if (name == "eval_metric") {
      // XGBoost takes several metrics as repeated eval_metric parameters.
      for (absl::string_view m : absl::StrSplit(value, ',')) {
        config.booster_params.emplace_back(name, std::string(m));
      }
    } else {
      config.booster_params.emplace_back(name, value);
    }
  }
  if (hyperparameters.count("objective") == 0) {
    config.booster_params.emplace_back("objective", config.objective);
  }
  return config;
}

}  // namespace mercato::xgboost
