#pragma once

// UTF-8 validation (RFC 3629): what nlohmann::json insists on when it
// serialises a string, so text from outside is checked before it becomes a
// JSON value, and text we show (Events, status, logs) is made valid and cut
// on a character boundary: a byte cut through a character would make the
// next serialisation throw.

#include <cstddef>
#include <string>
#include <string_view>

namespace globalsvc {

// The length (1-4) of the well-formed UTF-8 sequence `text` starts with, or
// 0 for an overlong form, a surrogate, a code point above U+10FFFF, a stray
// continuation byte or a truncated sequence (and for empty text).
[[nodiscard]] std::size_t Utf8SequenceLength(std::string_view text);

[[nodiscard]] bool IsValidUtf8(std::string_view text);

// `text` with every byte that does not start a well-formed sequence replaced
// by U+FFFD (as a decoder would show it).
[[nodiscard]] std::string ToValidUtf8(std::string_view text);

// Valid UTF-8 of at most `max_bytes` bytes: `text` made valid and, when
// longer, cut at the last character boundary that leaves room for "..."
// (the ellipsis says it was cut). `max_bytes` below 3 cuts without it.
[[nodiscard]] std::string ShortUtf8(std::string_view text, std::size_t max_bytes);

}  // namespace globalsvc
