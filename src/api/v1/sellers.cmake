# Native API routes: sellers, notifications and the operator's test clock.
add_library(mercato_api_sellers
  ${CMAKE_CURRENT_LIST_DIR}/seller_routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/notification_routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/admin_routes.cc)
target_link_libraries(mercato_api_sellers PUBLIC mercato_api_v1 mercato_sellers)
