# Native API routes: the sellers' business reports (data sets as JSON or CSV).
add_library(mercato_api_reports ${CMAKE_CURRENT_LIST_DIR}/report_routes.cc)
target_link_libraries(mercato_api_reports PUBLIC mercato_api_v1 mercato_reports fmt::fmt)
