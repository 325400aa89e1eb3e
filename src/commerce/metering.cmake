# Metering (issue 6): instance time and inferences → usage_records, and the buyers' usage
# report with a running cost estimate.
add_library(mercato_metering
  ${CMAKE_CURRENT_LIST_DIR}/meter.cc
  ${CMAKE_CURRENT_LIST_DIR}/usage_report.cc)
target_link_libraries(mercato_metering PUBLIC mercato_store mercato_base fmt::fmt
  Threads::Threads)

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/meter_test.cc)
  mercato_test(metering_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/meter_test.cc
    LIBS mercato_metering)
endif()
