// Fuzz target for text that reaches Events, status and logs: any bytes, cut
// at any length. Invariants:
// - ShortUtf8 returns valid UTF-8 of at most the limit, and leaves valid
//   text that fits untouched;
// - ToValidUtf8 leaves valid text untouched and is what nlohmann::json can
//   serialise; DumpJson never throws, whatever the bytes.
// The first byte picks the length limit.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/base/json_fields.h"
#include "lib/base/utf8.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t limit = data[0] * 8u;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::string cut = globalsvc::ShortUtf8(text, limit);
  FUZZ_CHECK(globalsvc::IsValidUtf8(cut));
  FUZZ_CHECK(cut.size() <= limit);
  if (globalsvc::IsValidUtf8(text) && text.size() <= limit) FUZZ_CHECK(cut == text);

  const std::string valid = globalsvc::ToValidUtf8(text);
  FUZZ_CHECK(globalsvc::IsValidUtf8(valid));
  if (globalsvc::IsValidUtf8(text)) FUZZ_CHECK(valid == text);

  // What the Event recorder and status writers build and send.
  const nlohmann::json event = {{"note", cut}, {"reason", valid}};
  FUZZ_CHECK(!event.dump().empty());
  const nlohmann::json raw = {{"text", std::string(text)}};
  FUZZ_CHECK(!globalsvc::DumpJson(raw).empty());
  return 0;
}
