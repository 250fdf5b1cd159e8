# The sources of cartero_spool, shared by src/spool/CMakeLists.txt and fuzz/CMakeLists.txt.
set(CARTERO_SPOOL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/fs_recovery.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_spool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_spool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queue_id.cpp
  ${CMAKE_CURRENT_LIST_DIR}/record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segment.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segment_registry.cpp
)
