// Fuzz target for the watch stream decoder. The input is a watch response
// body; its first byte seeds how the body is cut into chunks. Invariants:
// - the events and the outcome do not depend on the chunking;
// - dropping managedFields changes nothing but object.metadata.managedFields:
//   every stream the plain decoder accepts, the dropping one accepts too, with
//   the same events once managedFields is removed from both.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kube/watch_decoder.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using globalsvc::kube::WatchDecoder;
using globalsvc::kube::WatchEvent;

struct Outcome {
  std::vector<std::pair<int, nlohmann::json>> events;
  bool failed = false;
  std::size_t pending = 0;
};

nlohmann::json WithoutManagedFields(nlohmann::json object) {
  if (auto metadata = object.find("metadata"); metadata != object.end() && metadata->is_object()) {
    metadata->erase("managedFields");
  }
  return object;
}

Outcome Decode(std::string_view body, bool drop_managed_fields, std::uint8_t chunk_seed) {
  WatchDecoder decoder(drop_managed_fields);
  Outcome outcome;
  std::uint32_t state = chunk_seed;
  while (!body.empty()) {
    std::size_t chunk = body.size();
    if (chunk_seed != 0) {
      state = state * 1103515245u + 12345u;
      chunk = 1 + (state >> 16) % 97;
    }
    chunk = std::min(chunk, body.size());
    auto result = decoder.Feed(body.substr(0, chunk), [&](WatchEvent&& event) {
      outcome.events.emplace_back(static_cast<int>(event.type),
                                  WithoutManagedFields(std::move(event.object)));
      return true;
    });
    body.remove_prefix(chunk);
    if (!result.ok()) {
      outcome.failed = true;
      return outcome;
    }
    FUZZ_CHECK(*result);
  }
  outcome.pending = decoder.pending_bytes();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t chunk_seed = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Outcome whole = Decode(body, true, 0);
  const Outcome chunked = Decode(body, true, chunk_seed);
  FUZZ_CHECK(whole.failed == chunked.failed);
  FUZZ_CHECK(whole.events == chunked.events);
  FUZZ_CHECK(whole.failed || whole.pending == chunked.pending);

  const Outcome plain = Decode(body, false, chunk_seed);
  if (!plain.failed) {
    FUZZ_CHECK(!whole.failed);
    FUZZ_CHECK(whole.events == plain.events);
  } else {
    // Every event the plain decoder accepted before failing is seen the same.
    FUZZ_CHECK(whole.events.size() >= plain.events.size());
    FUZZ_CHECK(std::equal(plain.events.begin(), plain.events.end(), whole.events.begin()));
  }
  return 0;
}
