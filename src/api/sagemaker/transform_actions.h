// Registers SageMaker's batch transform actions on the SageMaker facade: CreateTransformJob,
// DescribeTransformJob, ListTransformJobs and StopTransformJob, each run for the caller's
// account by the TransformJobRunner (jobs/transform_job_runner.h), which produces
// SageMaker's shapes and error codes. The runner must outlive the facade.
#pragma once

#include "api/sagemaker/sagemaker_api.h"
#include "jobs/transform_job_runner.h"

namespace mercato::api::sagemaker {

void AddTransformActions(SageMakerApi& api, jobs::TransformJobRunner& runner);

}  // namespace mercato::api::sagemaker
