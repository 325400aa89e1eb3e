# The packages part of the marketplace (marketplace.h): algorithms, model packages,
# validation and escrow.
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/packages_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_sagemaker_catalog
  mercato_catalog_packages)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_PACKAGES)
