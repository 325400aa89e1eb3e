# Sellers (registration, sealed payout details) and notifications (with webhook outbox).
add_library(mercato_sellers
  ${CMAKE_CURRENT_LIST_DIR}/seller_validation.cc
  ${CMAKE_CURRENT_LIST_DIR}/seller_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/notification_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/webhook_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/webhook_dispatcher.cc)
target_link_libraries(mercato_sellers PUBLIC mercato_store mercato_base Boost::headers
  Threads::Threads)

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/seller_service_test.cc)
  mercato_test(sellers_test SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/seller_service_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/notification_service_test.cc
    LIBS mercato_sellers mercato_http)
endif()
