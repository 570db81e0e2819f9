#pragma once

// Istio locality strings: "region[/zone[/subzone]]".

#include <string>
#include <string_view>

namespace globalsvc::mesh {

struct Locality {
  std::string region;
  std::string zone;
  std::string subzone;

  friend bool operator==(const Locality&, const Locality&) = default;
};

// Empty when the region is unknown: a locality without its region would rank
// as a different region everywhere.
[[nodiscard]] std::string FormatLocality(const Locality& locality);

[[nodiscard]] Locality ParseLocality(std::string_view text);

}  // namespace globalsvc::mesh
