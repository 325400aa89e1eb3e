// Registers SageMaker's algorithm and model package actions on the SageMaker facade:
// Create/Describe/List/DeleteAlgorithm, Create/Describe/List/Update/DeleteModelPackage and
// Create/Describe/List/DeleteModelPackageGroup, each run for the caller's account by the
// PackageService (catalog/package_service.h), which produces SageMaker's shapes and error
// codes. The service must outlive the facade.
#pragma once

#include "api/sagemaker/sagemaker_api.h"
#include "catalog/package_service.h"

namespace mercato::api::sagemaker {

void AddCatalogActions(SageMakerApi& api, catalog::PackageService& service);

}  // namespace mercato::api::sagemaker
