# The products part of the marketplace (marketplace.h): listings, versions, offers, the
# buyers' catalog with search, and reviews.
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/products_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_v1_products mercato_catalog_products)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_PRODUCTS)
