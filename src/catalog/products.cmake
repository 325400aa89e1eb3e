# Products part of the catalog: listings, escrowed versions, offers, visibility, the buyers'
# catalog with FTS5 search, and reviews (namespace mercato::catalog).
add_library(mercato_catalog_products
  ${CMAKE_CURRENT_LIST_DIR}/product_records.cc
  ${CMAKE_CURRENT_LIST_DIR}/product_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/product_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/product_versions.cc
  ${CMAKE_CURRENT_LIST_DIR}/offer.cc
  ${CMAKE_CURRENT_LIST_DIR}/notebook.cc
  ${CMAKE_CURRENT_LIST_DIR}/search_index_fts5.cc
  ${CMAKE_CURRENT_LIST_DIR}/catalog_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/review_service.cc)
target_link_libraries(mercato_catalog_products PUBLIC mercato_store mercato_blob mercato_sandbox
  mercato_base fmt::fmt)

mercato_test(catalog_products_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/product_service_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/catalog_search_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/review_service_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/offer_test.cc
  LIBS mercato_catalog_products)
