# The reports part of the marketplace (marketplace.h): business reports and GenerateDataSet.
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/reports_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_reports mercato_api_marketplace
  mercato_reports)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_REPORTS)
