# `mercato usage` (usage_commands.h).
target_sources(mercato PRIVATE ${CMAKE_CURRENT_LIST_DIR}/usage_commands.cc)
