option(CARTERO_TESTS "Build the test suite" ON)
option(CARTERO_WERROR "Treat warnings as errors" OFF)
# Developers may build a subset of src/ folders (in dependency order) while others are in progress.
set(CARTERO_FOLDERS "base;config;observe;smtp;accounts;dns;spool;auth;policy;scheduler;delivery;bounce;diagnose;dkim;net;discovery;cli" CACHE STRING "src/ folders to build")
option(CARTERO_SANITIZE "Build with AddressSanitizer and UBSan" OFF)

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

add_library(cartero_warnings INTERFACE)
target_compile_options(cartero_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(CARTERO_WERROR)
  target_compile_options(cartero_warnings INTERFACE -Werror)
endif()
if(CARTERO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
option(CARTERO_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang++-14)" OFF)
# A build directory configured before discovery/ existed keeps the old cached
# list; the executable needs the folder, so add it there.
if("cli" IN_LIST CARTERO_FOLDERS AND NOT "discovery" IN_LIST CARTERO_FOLDERS)
  list(FIND CARTERO_FOLDERS "cli" cli_at)
  list(INSERT CARTERO_FOLDERS ${cli_at} "discovery")
  set(CARTERO_FOLDERS "${CARTERO_FOLDERS}" CACHE STRING "src/ folders to build" FORCE)
endif()
# The same for diagnose/ (issue 9, cartero check).
if("cli" IN_LIST CARTERO_FOLDERS AND NOT "diagnose" IN_LIST CARTERO_FOLDERS)
  list(FIND CARTERO_FOLDERS "cli" cli_at)
  list(INSERT CARTERO_FOLDERS ${cli_at} "diagnose")
  set(CARTERO_FOLDERS "${CARTERO_FOLDERS}" CACHE STRING "src/ folders to build" FORCE)
endif()
