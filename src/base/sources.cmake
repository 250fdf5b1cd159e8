# The sources of cartero_base, shared by src/base/CMakeLists.txt and fuzz/CMakeLists.txt.
set(CARTERO_BASE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/crc32c.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/idna.cpp
  ${CMAKE_CURRENT_LIST_DIR}/translation.cpp
)
