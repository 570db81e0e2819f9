#pragma once

// Hands what the in-memory object calls hold of one resource to a reflector
// sink (an observer), as a reflector's list would.

#include <catch2/catch.hpp>

#include "lib/kube/reflector_sink.h"
#include "test/support/memory_object_api.h"

namespace globalsvc::controller::testing {

inline void ListInto(kube::ReflectorSink& sink, testsupport::MemoryObjectApi& api,
                     const kube::ResourceType& type) {
  auto listed = api.List(type, "");
  REQUIRE(listed.ok());
  sink.BeginReplace();
  for (auto& item : listed->items)
    sink.ReplaceItem(std::move(item));
  sink.EndReplace();
}

}  // namespace globalsvc::controller::testing
