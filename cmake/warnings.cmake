# Warnings apply to the project's own targets only (not to third-party headers,
# which are included as system headers).
add_library(globalsvc_warnings INTERFACE)
target_compile_options(globalsvc_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 at -O3 (Release) takes `"text" + std::string` for an overlapping
  # memcpy (GCC bug 105329, fixed in 13): the warning is false on correct code.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<BOOL:${GLOBALSVC_WERROR}>:-Werror>)

if((GLOBALSVC_SANITIZE OR GLOBALSVC_FUZZ) AND GLOBALSVC_TSAN)
  message(FATAL_ERROR "GLOBALSVC_TSAN cannot be combined with GLOBALSVC_SANITIZE or GLOBALSVC_FUZZ")
endif()

if(GLOBALSVC_SANITIZE OR GLOBALSVC_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(GLOBALSVC_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# Every object carries libFuzzer's coverage instrumentation; only the fuzz
# targets link its main().
if(GLOBALSVC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "GLOBALSVC_FUZZ needs clang (CXX=clang++); scripts/fuzz sets it")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
