#include "api/sagemaker/catalog_actions.h"

namespace mercato::api::sagemaker {

void AddCatalogActions(SageMakerApi& api, catalog::PackageService& service) {
  using Method = absl::StatusOr<Json> (catalog::PackageService::*)(std::string_view, const Json&);
  using S = catalog::PackageService;
  static const std::pair<const char*, Method> kActions[] = {
      {"CreateAlgorithm", &S::CreateAlgorithm},
      {"DescribeAlgorithm", &S::DescribeAlgorithm},
      {"ListAlgorithms", &S::ListAlgorithms},
      {"DeleteAlgorithm", &S::DeleteAlgorithm},
      {"CreateModelPackage", &S::CreateModelPackage},
      {"DescribeModelPackage", &S::DescribeModelPackage},
      {"ListModelPackages", &S::ListModelPackages},
      {"UpdateModelPackage", &S::UpdateModelPackage},
      {"DeleteModelPackage", &S::DeleteModelPackage},
      {"CreateModelPackageGroup", &S::CreateModelPackageGroup},
      {"DescribeModelPackageGroup", &S::DescribeModelPackageGroup},
      {"ListModelPackageGroups", &S::ListModelPackageGroups},
      {"DeleteModelPackageGroup", &S::DeleteModelPackageGroup},
  };
  for (const auto& [name, method] : kActions) {
    api.AddAction(name, [&service, method](const auth::Principal& p, const Json& in) {
      return (service.*method)(p.account_id, in);
    });
  }
}

}  // namespace mercato::api::sagemaker
