#include "lib/mesh/locality.h"

namespace globalsvc::mesh {

std::string FormatLocality(const Locality& locality) {
  if (locality.region.empty()) return {};
  std::string out = locality.region;
  if (locality.zone.empty()) return out;
  out.append("/").append(locality.zone);
  if (!locality.subzone.empty()) out.append("/").append(locality.subzone);
  return out;
}

Locality ParseLocality(std::string_view text) {
  Locality locality;
  std::string* parts[] = {&locality.region, &locality.zone, &locality.subzone};
  std::size_t index = 0;
  std::size_t start = 0;
  while (index < 3) {
    const std::size_t slash = text.find('/', start);
    const std::size_t end = (slash == std::string_view::npos || index == 2) ? text.size() : slash;
    *parts[index++] = std::string(text.substr(start, end - start));
    if (end == text.size()) break;
    start = end + 1;
  }
  return locality;
}

}  // namespace globalsvc::mesh
