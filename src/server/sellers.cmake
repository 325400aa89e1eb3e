# The sellers part of the marketplace (marketplace.h).
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/sellers_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_sellers mercato_sellers)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_SELLERS)
