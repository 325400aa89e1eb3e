#include "api/sagemaker/training_actions.h"

#include <algorithm>
#include <charconv>

#include "base/errors.h"
#include "base/status.h"
#include "fmt/format.h"

namespace mercato::api::sagemaker {
namespace {

absl::StatusOr<int64_t> IntParam(const http::Request& r, const char* name, int64_t dflt) {
  auto v = r.QueryParam(name);
  if (!v || v->empty()) return dflt;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < 0) {
    return AwsError(absl::StatusCode::kInvalidArgument, "ValidationException",
                    fmt::format("{} must be a non-negative integer", name));
  }
  return out;
}

}  // namespace

void AddTrainingActions(SageMakerApi& api, jobs::TrainingJobRunner& runner) {
  using Method = absl::StatusOr<Json> (jobs::TrainingJobRunner::*)(std::string_view, const Json&);
  static const std::pair<const char*, Method> kActions[] = {
      {"CreateTrainingJob", &jobs::TrainingJobRunner::Create},
      {"DescribeTrainingJob", &jobs::TrainingJobRunner::Describe},
      {"ListTrainingJobs", &jobs::TrainingJobRunner::List},
      {"StopTrainingJob", &jobs::TrainingJobRunner::Stop},
  };
  for (const auto& [name, method] : kActions) {
    api.AddAction(name, [&runner, method](const auth::Principal& p, const Json& in) {
      return (runner.*method)(p.account_id, in);
    });
  }
}

void AddTrainingLogRoute(v1::V1Api& api, jobs::TrainingJobRunner& runner) {
  api.AddRoute("GET", "/api/v1/logs/training-jobs/{name}",
               [&runner](const v1::Call& c) -> absl::StatusOr<v1::Reply> {
                 jobs::TrainingLogQuery q;
                 if (auto host = c.request.QueryParam("host"); host && !host->empty()) {
                   q.host = *host;
                 }
                 ASSIGN_OR_RETURN(q.since_line, IntParam(c.request, "since_line", 0));
                 ASSIGN_OR_RETURN(int64_t limit, IntParam(c.request, "limit", 5000));
                 q.limit = static_cast<size_t>(std::clamp<int64_t>(limit, 1, 10000));
                 ASSIGN_OR_RETURN(Json out,
                                  runner.Logs(c.principal.account_id, c.params.at("name"), q));
                 return v1::Reply{200, std::move(out)};
               });
}

}  // namespace mercato::api::sagemaker
