# The subscriptions part of the marketplace (marketplace.h).
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/subscriptions_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_subscriptions mercato_api_sellers
  mercato_subscriptions)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_SUBSCRIPTIONS)
