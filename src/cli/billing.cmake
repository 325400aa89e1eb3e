# `mercato bills|billing|admin prices|admin billing|seller disbursements` (billing_commands.h).
target_sources(mercato PRIVATE ${CMAKE_CURRENT_LIST_DIR}/billing_commands.cc)
