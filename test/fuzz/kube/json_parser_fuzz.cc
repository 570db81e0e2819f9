// Differential fuzz target: ParseJson must accept and build exactly what
// nlohmann::json::parse does, except that it refuses nesting deeper than its
// limit (a guard for the stack) and input with a NUL byte.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "lib/kube/json_parser.h"
#include "test/fuzz/fuzz_check.h"

namespace {

std::size_t Depth(const nlohmann::json& value) {
  std::size_t deepest = 0;
  if (value.is_structured()) {
    for (const auto& item : value)
      deepest = std::max(deepest, Depth(item));
    return deepest + 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ours = globalsvc::kube::ParseJson(text);
  // nlohmann stops reading at a NUL byte and ignores what follows; JSON has
  // no place for a raw NUL, so it must be refused.
  if (text.find('\0') != std::string_view::npos) {
    FUZZ_CHECK(!ours);
    return 0;
  }
  nlohmann::json reference = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (reference.is_discarded()) {
    FUZZ_CHECK(!ours);
    return 0;
  }
  if (!ours) {
    FUZZ_CHECK(Depth(reference) > 512);
    return 0;
  }
  FUZZ_CHECK(*ours == reference);
  // Integer kinds matter (a resourceVersion or a port read as a double would
  // not compare equal elsewhere), and == treats 1 and 1u as equal.
  FUZZ_CHECK(ours->dump() == reference.dump());
  return 0;
}
