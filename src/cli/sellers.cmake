# `mercato seller|notifications|admin ...` (seller_commands.h).
target_sources(mercato PRIVATE ${CMAKE_CURRENT_LIST_DIR}/seller_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/notification_commands.cc ${CMAKE_CURRENT_LIST_DIR}/admin_commands.cc)
