# Native API routes: billing (prices, month close, bills, refunds, disbursements).
add_library(mercato_api_billing ${CMAKE_CURRENT_LIST_DIR}/billing_routes.cc)
target_link_libraries(mercato_api_billing PUBLIC mercato_api_v1 mercato_billing)
