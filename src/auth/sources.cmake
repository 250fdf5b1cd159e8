# The sources of cartero_auth, shared by src/auth/CMakeLists.txt and fuzz/CMakeLists.txt.
set(CARTERO_AUTH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/authenticator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hashing_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/password.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sasl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/throttle.cpp
)
