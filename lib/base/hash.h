#pragma once

// Stable 64-bit FNV-1a content hash, used for change detection. Stable across
// processes, builds and machines (unlike std::hash).

#include <cstdint>
#include <string>
#include <string_view>

namespace globalsvc {

[[nodiscard]] constexpr std::uint64_t Fnv1a64(std::string_view data) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// Sixteen lowercase hex digits.
[[nodiscard]] std::string HexHash(std::uint64_t hash);

// The first ten hex digits of the hash of `text`: short enough for a
// Kubernetes name suffix, long enough not to collide among one service's
// objects.
[[nodiscard]] std::string ShortHash(std::string_view text);

}  // namespace globalsvc
