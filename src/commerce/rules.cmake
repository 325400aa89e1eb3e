# mercato_marketplace_rules: what a buyer's use of a seller's algorithm must satisfy.
add_library(mercato_marketplace_rules ${CMAKE_CURRENT_LIST_DIR}/marketplace_rules.cc)
target_link_libraries(mercato_marketplace_rules PUBLIC mercato_base fmt::fmt)
mercato_test(marketplace_rules_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/marketplace_rules_test.cc
  LIBS mercato_marketplace_rules)
