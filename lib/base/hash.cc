#include "lib/base/hash.h"

namespace globalsvc {

std::string HexHash(std::uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[hash & 0xf];
    hash >>= 4;
  }
  return out;
}

std::string ShortHash(std::string_view text) {
  return HexHash(Fnv1a64(text)).substr(0, 10);
}

}  // namespace globalsvc
