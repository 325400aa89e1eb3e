// Marketplace rules for using a seller's algorithm: what a buyer's CreateTrainingJob with
// AlgorithmSpecification.AlgorithmName must satisfy, checked against the algorithm's
// TrainingSpecification (SageMaker's shape), and the request that then actually runs.
//
// Checks, each failing with a ValidationException that names the algorithm and what is
// allowed: the instance type is one of SupportedTrainingInstanceTypes; more than one
// instance needs SupportsDistributedTraining; every hyperparameter is declared, has its
// declared type (Integer, Continuous, Categorical, FreeText) and lies in its declared range;
// required hyperparameters are present (declared defaults fill in the others); every
// channel is declared, required channels are present, and content types and input modes are
// among those the channel supports.
//
// Pure functions of their inputs; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace mercato::commerce {

// Returns the request to run for `in` (a CreateTrainingJob input naming `algorithm_name`):
// AlgorithmSpecification becomes {TrainingImage: `image`, TrainingInputMode, and the
// algorithm's MetricDefinitions}, HyperParameters gain the declared defaults, and
// EnableNetworkIsolation is true. `training_spec` is the algorithm's TrainingSpecification.
absl::StatusOr<Json> ResolveAlgorithmTraining(const Json& in, const Json& training_spec,
                                              std::string_view algorithm_name,
                                              std::string_view image);

// Checks one hyperparameter value against its SupportedHyperParameters entry.
absl::Status CheckHyperParameter(const Json& declared, std::string_view value,
                                 std::string_view algorithm_name);

}  // namespace mercato::commerce
