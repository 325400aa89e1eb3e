# `mercato seller reports ...` (report_commands.h).
target_sources(mercato PRIVATE ${CMAKE_CURRENT_LIST_DIR}/report_commands.cc)
