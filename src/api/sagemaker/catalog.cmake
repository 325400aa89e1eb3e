# The algorithm and model package actions (catalog/package_service.h).
add_library(mercato_api_sagemaker_catalog ${CMAKE_CURRENT_LIST_DIR}/catalog_actions.cc)
target_link_libraries(mercato_api_sagemaker_catalog PUBLIC mercato_api_sagemaker
  mercato_catalog_packages)
