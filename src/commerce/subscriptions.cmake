# Subscriptions, entitlements and the removal grace timeline.
add_library(mercato_subscriptions
  ${CMAKE_CURRENT_LIST_DIR}/subscription_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/subscription_removal.cc
  ${CMAKE_CURRENT_LIST_DIR}/subscription_sweeper.cc)
target_link_libraries(mercato_subscriptions PUBLIC mercato_store mercato_base Threads::Threads)

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/subscription_service_test.cc)
  mercato_test(subscriptions_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/subscription_service_test.cc
    LIBS mercato_subscriptions mercato_sellers)
endif()
