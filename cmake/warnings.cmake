# Warnings apply to the project's own targets only (not to third-party headers,
# which are included as system headers).
add_library(globalsvc_warnings INTERFACE)
target_compile_options(globalsvc_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${GLOBALSVC_WERROR}>:-Werror>)

if(GLOBALSVC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
