// SageMaker training-job actions on the SageMaker facade — CreateTrainingJob,
// DescribeTrainingJob, ListTrainingJobs, StopTrainingJob — served by jobs::TrainingJobRunner
// (which produces SageMaker's JSON shapes and error codes itself), and the native log route
// GET /api/v1/logs/training-jobs/{name}?host=algo-1&since_line=N&limit=M, readable only by
// the job's account (another account gets 404 ResourceNotFound, as for a job that does not
// exist). Registration only; thread-safe once registered; borrows the runner.
#pragma once

#include "api/sagemaker/sagemaker_api.h"
#include "api/v1/v1_api.h"
#include "jobs/training_job_runner.h"

namespace mercato::api::sagemaker {

void AddTrainingActions(SageMakerApi& api, jobs::TrainingJobRunner& runner);
void AddTrainingLogRoute(v1::V1Api& api, jobs::TrainingJobRunner& runner);

}  // namespace mercato::api::sagemaker
