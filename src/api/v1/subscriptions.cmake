# Native API routes: buyers' subscriptions.
add_library(mercato_api_subscriptions ${CMAKE_CURRENT_LIST_DIR}/subscription_routes.cc)
target_link_libraries(mercato_api_subscriptions PUBLIC mercato_api_v1 mercato_subscriptions)
