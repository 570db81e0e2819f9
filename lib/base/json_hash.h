#pragma once

// FNV-1a over a canonical byte stream of JSON values, built as it goes: no
// copy of the value and no dumped text. Two values feed the same stream
// exactly when their dump() texts are equal (an integer read back as
// unsigned counts as the same number), so hashes compare stored objects with
// desired ones.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

namespace globalsvc {

class Fnv1a64Stream {
 public:
  // A tag byte; callers mark structure (present, absent, which field).
  void AddTag(char tag) { AddByte(static_cast<unsigned char>(tag)); }
  // Length first, so "ab"+"c" and "a"+"bc" differ.
  void AddString(std::string_view text);
  void AddJson(const nlohmann::json& value);
  [[nodiscard]] std::uint64_t value() const { return hash_; }

 private:
  void AddByte(unsigned char byte) {
    hash_ ^= byte;
    hash_ *= 0x100000001b3ULL;
  }
  void AddLength(std::uint64_t length);

  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace globalsvc
