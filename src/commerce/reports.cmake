# Sellers' business reports: Commerce Analytics data sets and GenerateDataSet publishing.
add_library(mercato_reports
  ${CMAKE_CURRENT_LIST_DIR}/dataset.cc
  ${CMAKE_CURRENT_LIST_DIR}/dataset_publisher.cc
  ${CMAKE_CURRENT_LIST_DIR}/report_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/report_daily.cc
  ${CMAKE_CURRENT_LIST_DIR}/report_monthly.cc)
target_link_libraries(mercato_reports PUBLIC mercato_store mercato_base fmt::fmt)

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/report_service_test.cc)
  mercato_test(reports_test SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/report_service_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/dataset_test.cc
    LIBS mercato_reports)
endif()
