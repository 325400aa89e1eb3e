# mercato_catalog_packages: algorithms, model packages and groups (SageMaker shapes), their
# validation by running jobs, and escrowed copies (packages part of the marketplace).
add_library(mercato_catalog_packages
  ${CMAKE_CURRENT_LIST_DIR}/package_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/package_spec.cc
  ${CMAKE_CURRENT_LIST_DIR}/package_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/algorithm_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_package_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/validation_runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/package_escrow.cc)
target_link_libraries(mercato_catalog_packages PUBLIC mercato_image mercato_storage
  mercato_marketplace_rules
  mercato_hosting mercato_store mercato_base fmt::fmt spdlog::spdlog)

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/package_service_test.cc)
  mercato_test(catalog_packages_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/package_service_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/validation_runner_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/package_escrow_test.cc
    LIBS mercato_catalog_packages mercato_blob)
endif()
