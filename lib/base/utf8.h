#pragma once

// UTF-8 validation (RFC 3629): what nlohmann::json insists on when it
// serialises a string, so text from outside is checked before it becomes a
// JSON value.

#include <cstddef>
#include <string_view>

namespace globalsvc {

// The length (1-4) of the well-formed UTF-8 sequence `text` starts with, or
// 0 for an overlong form, a surrogate, a code point above U+10FFFF, a stray
// continuation byte or a truncated sequence (and for empty text).
[[nodiscard]] std::size_t Utf8SequenceLength(std::string_view text);

[[nodiscard]] bool IsValidUtf8(std::string_view text);

}  // namespace globalsvc
