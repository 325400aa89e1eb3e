# Billing (issue 6): prices, price changes, tax, month close, invoices, refunds and
# disbursements (namespace mercato::commerce).
add_library(mercato_billing
  ${CMAKE_CURRENT_LIST_DIR}/billing_types.cc
  ${CMAKE_CURRENT_LIST_DIR}/price_list.cc
  ${CMAKE_CURRENT_LIST_DIR}/price_changes.cc
  ${CMAKE_CURRENT_LIST_DIR}/tax_rates.cc
  ${CMAKE_CURRENT_LIST_DIR}/invoice_builder.cc
  ${CMAKE_CURRENT_LIST_DIR}/invoice_rows.cc
  ${CMAKE_CURRENT_LIST_DIR}/disbursement.cc
  ${CMAKE_CURRENT_LIST_DIR}/billing_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/billing_refunds.cc
  ${CMAKE_CURRENT_LIST_DIR}/billing_closer.cc)
target_link_libraries(mercato_billing PUBLIC mercato_store mercato_base mercato_catalog_products
  mercato_sandbox fmt::fmt Threads::Threads)

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/billing_service_test.cc)
  mercato_test(billing_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/billing_service_test.cc
    LIBS mercato_billing)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/billing_bench.cc)
  add_executable(billing_bench ${CMAKE_CURRENT_LIST_DIR}/billing_bench.cc)
  target_link_libraries(billing_bench PRIVATE mercato_billing mercato_reports)
  set_target_properties(billing_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif()
