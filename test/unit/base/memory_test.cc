// Returning freed memory is safe from any thread while others start and end,
// in every build (a sanitizer's allocator included).

#include "lib/base/memory.h"

#include <netdb.h>

#include <catch2/catch.hpp>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace globalsvc {
namespace {

TEST_CASE("Freed memory is returned while threads come and go", "[base][memory]") {
  std::latch start(8);
  std::vector<std::jthread> trimmers;
  for (int t = 0; t < 8; ++t) {
    trimmers.emplace_back([&start] {
      // All at once, the first call of the process among them.
      start.arrive_and_wait();
      ReturnFreedMemory();
      for (int i = 0; i < 100; ++i) {
        // A short-lived thread that allocates: it attaches to an arena and
        // leaves it at exit, as reflector threads do.
        std::thread([] {
          std::vector<std::string> garbage(64, std::string(4096, 'x'));
          // The C library allocates for itself here (name lookup), as a
          // reflector thread's connect does.
          addrinfo* found = nullptr;
          if (getaddrinfo("localhost", "443", nullptr, &found) == 0) freeaddrinfo(found);
          ReturnFreedMemory();
        }).join();
        ReturnFreedMemory();
      }
    });
  }
  trimmers.clear();  // joins
  ReturnFreedMemory();
  SUCCEED("no crash");
}

}  // namespace
}  // namespace globalsvc
