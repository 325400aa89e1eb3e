# The billing part of the marketplace (marketplace.h).
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/billing_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_billing mercato_billing mercato_sellers)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_BILLING)
