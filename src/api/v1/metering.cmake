# Native API routes: buyers' usage and the operator's metering switch.
add_library(mercato_api_usage ${CMAKE_CURRENT_LIST_DIR}/usage_routes.cc)
target_link_libraries(mercato_api_usage PUBLIC mercato_api_v1 mercato_metering)
