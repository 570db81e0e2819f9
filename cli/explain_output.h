#pragma once

// explain's rendering of an ExplainReport: the text table people read, and
// the JSON (also printed as YAML) scripts read.

#include <iosfwd>
#include <nlohmann/json.hpp>

#include "cli/explain_report.h"

namespace globalsvc::cli {

// -o table: a summary, the ranked groups, what was left out, notes and the sample.
void PrintExplainTable(std::ostream& out, const ExplainReport& report);

// -o json and -o yaml.
[[nodiscard]] nlohmann::json ExplainJson(const ExplainReport& report);

}  // namespace globalsvc::cli
