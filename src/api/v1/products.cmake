# Native API routes of the products part: seller product routes, the buyers' catalog and
# reviews (product_routes.h).
add_library(mercato_api_v1_products
  ${CMAKE_CURRENT_LIST_DIR}/product_routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/catalog_routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/review_routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/product_page.cc)
target_link_libraries(mercato_api_v1_products PUBLIC mercato_api_v1 mercato_catalog_products
  fmt::fmt)
