#include "lib/base/json_hash.h"

#include <charconv>

namespace globalsvc {

void Fnv1a64Stream::AddLength(std::uint64_t length) {
  for (int i = 0; i < 8; ++i) {
    AddByte(static_cast<unsigned char>(length & 0xff));
    length >>= 8;
  }
}

void Fnv1a64Stream::AddString(std::string_view text) {
  AddLength(text.size());
  for (const char c : text)
    AddByte(static_cast<unsigned char>(c));
}

void Fnv1a64Stream::AddJson(const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  char digits[32];
  switch (value.type()) {
    case Type::null:
      AddTag('n');
      return;
    case Type::boolean:
      AddTag(value.get<bool>() ? 't' : 'f');
      return;
    case Type::number_integer:
    case Type::number_unsigned: {
      // The parser reads 80 as unsigned, code may build it signed: one number.
      const auto end =
          value.is_number_unsigned() || value.get<std::int64_t>() >= 0
              ? std::to_chars(digits, digits + sizeof(digits), value.get<std::uint64_t>()).ptr
              : std::to_chars(digits, digits + sizeof(digits), value.get<std::int64_t>()).ptr;
      AddTag('i');
      AddString(std::string_view(digits, static_cast<std::size_t>(end - digits)));
      return;
    }
    case Type::number_float: {
      const auto end = std::to_chars(digits, digits + sizeof(digits), value.get<double>()).ptr;
      AddTag('d');
      AddString(std::string_view(digits, static_cast<std::size_t>(end - digits)));
      return;
    }
    case Type::string:
      AddTag('s');
      AddString(value.get_ref<const std::string&>());
      return;
    case Type::array:
      AddTag('a');
      AddLength(value.size());
      for (const auto& item : value)
        AddJson(item);
      return;
    case Type::object:
      AddTag('o');
      AddLength(value.size());
      for (const auto& [key, item] : value.items()) {  // std::map: sorted keys
        AddString(key);
        AddJson(item);
      }
      return;
    default:  // binary, discarded: never in an object read from JSON text
      AddTag('x');
      return;
  }
}

}  // namespace globalsvc
