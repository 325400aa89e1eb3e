# `mercato product|catalog|review ...` (product_commands.h).
target_sources(mercato PRIVATE ${CMAKE_CURRENT_LIST_DIR}/product_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/catalog_commands.cc ${CMAKE_CURRENT_LIST_DIR}/review_commands.cc)
