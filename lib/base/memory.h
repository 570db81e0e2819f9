#pragma once

// Hands freed heap pages back to the system.

namespace globalsvc {

// Asks glibc's allocator to return the free pages it keeps resident (after
// a large transient allocation, such as a list's pages). Does nothing under a
// sanitizer, whose allocator replaces glibc's: glibc's trim would then walk
// arenas it does not own while threads come and go, and crash.
void ReturnFreedMemory();

}  // namespace globalsvc
