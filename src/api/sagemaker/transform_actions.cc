#include "api/sagemaker/transform_actions.h"

#include <utility>

namespace mercato::api::sagemaker {

void AddTransformActions(SageMakerApi& api, jobs::TransformJobRunner& runner) {
  using Method = absl::StatusOr<Json> (jobs::TransformJobRunner::*)(std::string_view, const Json&);
  const std::pair<const char*, Method> kActions[] = {
      {"CreateTransformJob", &jobs::TransformJobRunner::Create},
      {"DescribeTransformJob", &jobs::TransformJobRunner::Describe},
      {"ListTransformJobs", &jobs::TransformJobRunner::List},
      {"StopTransformJob", &jobs::TransformJobRunner::Stop},
  };
  for (const auto& [name, method] : kActions) {
    api.AddAction(name, [&runner, method](const auth::Principal& p, const Json& in) {
      return (runner.*method)(p.account_id, in);
    });
  }
}

}  // namespace mercato::api::sagemaker
