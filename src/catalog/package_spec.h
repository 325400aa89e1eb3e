// The shapes of SageMaker's algorithm and model package requests: checks of the parts
// Mercato acts on (TrainingSpecification, InferenceSpecification, ValidationSpecification,
// SourceAlgorithmSpecification), the error statuses they produce (SageMaker's codes via
// base/errors.h), and the public view of a Describe output that a buyer may see.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/json.h"

namespace mercato::catalog {

// ValidationException with `message`.
absl::Status Invalid(std::string_view message);
// ResourceNotFound, worded the same whether the resource is missing or hidden.
absl::Status NotFoundError(std::string_view what, std::string_view name_or_arn);

// A required EntityName member (SageMaker's name pattern).
absl::StatusOr<std::string> RequiredName(const Json& in, std::string_view field);
// An optional string member ("" when absent); ValidationException when not a string.
absl::StatusOr<std::string> OptionalString(const Json& in, std::string_view field);

absl::Status CheckTrainingSpecification(const Json& spec);
// Every container must name an Image; `where` prefixes the messages.
absl::Status CheckInferenceSpecification(const Json& spec, std::string_view where);
// Algorithm profiles need a TrainingJobDefinition (and may add a TransformJobDefinition);
// model package profiles need a TransformJobDefinition. Returns the number of profiles.
absl::StatusOr<size_t> CheckValidationSpecification(const Json& spec, bool algorithm);
absl::Status CheckSourceAlgorithmSpecification(const Json& spec);

// Every image a spec names: the TrainingImage first, then the inference containers' images,
// without duplicates.
std::vector<std::string> SpecImages(const Json& spec);

// The Describe output without what only the owner may see: images, digests, model data
// locations, environments, the ValidationSpecification, image scan statuses and failure
// reasons (they may name locations). Content types, instance types, hyperparameter specs,
// channels and metric definitions stay.
Json PublicView(const Json& describe);

}  // namespace mercato::catalog
