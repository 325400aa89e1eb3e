# The metering part of the marketplace (marketplace.h, metering_wiring.cc).
target_sources(mercato_server PRIVATE ${CMAKE_CURRENT_LIST_DIR}/metering_wiring.cc)
target_link_libraries(mercato_server PUBLIC mercato_api_usage mercato_metering)
target_compile_definitions(mercato_server PRIVATE MERCATO_HAVE_METERING)
