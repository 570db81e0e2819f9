// Text that reaches Events, status and logs: made valid UTF-8 and cut on a
// character boundary (a cut through a character made the next JSON
// serialisation throw and ended the process).

#include "lib/base/utf8.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace globalsvc {
namespace {

TEST_CASE("Invalid bytes become U+FFFD, valid text is kept", "[base][utf8]") {
  CHECK(ToValidUtf8("plain") == "plain");
  CHECK(ToValidUtf8("d\xC3\xA9j\xC3\xA0") == "d\xC3\xA9j\xC3\xA0");
  // Latin-1 "défaillance": 0xE9 alone is not UTF-8.
  CHECK(ToValidUtf8("d\xE9"
                    "faillance") ==
        "d\xEF\xBF\xBD"
        "faillance");
  // A truncated three-byte sequence at the end, and a stray continuation byte.
  CHECK(ToValidUtf8("a\xE2\x82") == "a\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(ToValidUtf8("\x80x") == "\xEF\xBF\xBDx");
  CHECK(IsValidUtf8(ToValidUtf8("\xFF\xFE\xC0\xAF\xED\xA0\x80")));
}

TEST_CASE("ShortUtf8 never cuts a character and says it cut", "[base][utf8]") {
  CHECK(ShortUtf8("short", 100) == "short");
  CHECK(ShortUtf8("abcdefgh", 6) == "abc...");
  // The case that crashed: 974 ASCII bytes then multibyte characters across
  // the cut point.
  std::string annotation(974, 'a');
  for (int i = 0; i < 30; ++i)
    annotation += "\xC3\xA9";  // é
  for (std::size_t limit = 990; limit <= 1010; ++limit) {
    const std::string cut = ShortUtf8(annotation, limit);
    INFO("limit " << limit);
    CHECK(cut.size() <= limit);
    CHECK(IsValidUtf8(cut));
    CHECK(cut.ends_with("..."));
    CHECK_NOTHROW(nlohmann::json(cut).dump());
  }
  // A four-byte character is kept whole or dropped whole.
  const std::string emoji = "\xF0\x9F\x98\x80\xF0\x9F\x98\x80";
  CHECK(ShortUtf8(emoji, 7) == "\xF0\x9F\x98\x80...");
  CHECK(ShortUtf8(emoji, 6) == "...");
  CHECK(ShortUtf8(emoji, 2).empty());
  // Invalid input is made valid before it is measured.
  CHECK(IsValidUtf8(ShortUtf8(std::string(50, '\xE9'), 20)));
}

}  // namespace
}  // namespace globalsvc
