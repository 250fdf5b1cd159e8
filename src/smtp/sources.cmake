# The sources of cartero_smtp, shared by src/smtp/CMakeLists.txt and fuzz/CMakeLists.txt
# (the fuzz build compiles them again with coverage instrumentation).
set(CARTERO_SMTP_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/address.cpp
  ${CMAKE_CURRENT_LIST_DIR}/body_check.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chunk_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_envelope.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/data_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dot_stuffer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/extensions.cpp
  ${CMAKE_CURRENT_LIST_DIR}/header_fields.cpp
  ${CMAKE_CURRENT_LIST_DIR}/from_header.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsn_params.cpp
  ${CMAKE_CURRENT_LIST_DIR}/line_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/received.cpp
  ${CMAKE_CURRENT_LIST_DIR}/replies.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reply.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reply_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sasl_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_auth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/srs.cpp
)
