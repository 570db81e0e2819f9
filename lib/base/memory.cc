#include "lib/base/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define GLOBALSVC_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GLOBALSVC_SANITIZED_ALLOCATOR 1
#endif

namespace globalsvc {

void ReturnFreedMemory() {
#if defined(__GLIBC__) && !defined(GLOBALSVC_SANITIZED_ALLOCATOR)
  malloc_trim(0);
#endif
}

}  // namespace globalsvc
