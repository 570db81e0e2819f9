// Fuzz target for the YAML <-> JSON conversion (kubectl dumps read by
// `globalsvc plan`, kubeconfigs, the YAML the CLI prints). Invariant: every
// document that parses is emitted as YAML that parses back to the same value.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/base/yaml_json.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto documents = globalsvc::ParseYamlDocuments(text);
  if (!documents.ok()) return 0;
  for (const nlohmann::json& document : *documents) {
    const std::string emitted = globalsvc::EmitYaml(document);
    auto again = globalsvc::ParseYamlDocuments(emitted);
    if (!again.ok()) {
      std::fprintf(stderr, "emitted YAML does not parse: %s\n%s\n", again.error().message.c_str(),
                   emitted.c_str());
    }
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->size() == 1);
    if (again->front() != document) {
      std::fprintf(
          stderr, "round trip differs:\n%s\nreads back as\n%s\n", emitted.c_str(),
          again->front().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    FUZZ_CHECK(again->front() == document);
  }
  return 0;
}
