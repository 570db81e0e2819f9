// Fuzz target for what any server (or a proxy in front of one) may answer:
// the same bytes as an error body, a list page and a watch event. Invariants:
// - nothing throws (an escaping exception aborts the run);
// - an error message is valid UTF-8, quotes at most kMaxDetailBytes of the
//   body, and its Retry-After is never above kMaxRetryAfter;
// - a decoded list page holds only objects.
// The first byte picks the HTTP status, the next few the Retry-After header.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/utf8.h"
#include "lib/kube/api_error.h"
#include "lib/kube/json_parser.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/watch_decoder.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const int status = 400 + data[0] % 200;
  const std::string_view retry_after(reinterpret_cast<const char*>(data + 1), 4);
  const std::string_view body(reinterpret_cast<const char*>(data + 5), size - 5);
  const std::string_view what = "cluster2: GET /api/v1/services";

  const globalsvc::Error error =
      globalsvc::kube::ErrorFromResponse(status, body, retry_after, what);
  FUZZ_CHECK(globalsvc::IsValidUtf8(error.message));
  FUZZ_CHECK(error.message.size() <= what.size() + 32 + globalsvc::kube::kMaxDetailBytes);
  FUZZ_CHECK(error.retry_after <= globalsvc::kube::kMaxRetryAfter);

  if (auto parsed = globalsvc::kube::ParseJson(body)) {
    auto page = globalsvc::kube::DecodeListPage(std::move(*parsed));
    if (page.ok()) {
      for (const auto& item : page->items)
        FUZZ_CHECK(item.is_object());
    } else {
      FUZZ_CHECK(globalsvc::IsValidUtf8(page.error().message));
    }
  }
  auto event = globalsvc::kube::DecodeWatchEvent(body);
  if (!event.ok()) FUZZ_CHECK(globalsvc::IsValidUtf8(event.error().message));
  return 0;
}
