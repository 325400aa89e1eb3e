# `mercato subscribe|unsubscribe|subscriptions` (subscription_commands.h).
target_sources(mercato PRIVATE ${CMAKE_CURRENT_LIST_DIR}/subscription_commands.cc)
