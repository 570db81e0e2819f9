#pragma once

// The pieces of Prometheus' text exposition format 0.0.4 that the registry
// writes: which names are valid, how help text and label values are escaped,
// and how a number is spelled.

#include <string>
#include <string_view>
#include <vector>

namespace globalsvc::obs {

[[nodiscard]] bool IsMetricName(std::string_view name);
// Label names also may not start with "__" (reserved for Prometheus).
[[nodiscard]] bool IsLabelName(std::string_view name);

void AppendEscapedHelp(std::string& out, std::string_view text);
void AppendEscapedLabelValue(std::string& out, std::string_view text);

// `{a="x",b="y"}` (plus an extra pair such as le="0.5"), or nothing when
// there are no labels at all. names and values have the same length.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {});

// `name{labels} value\n`
void AppendSample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view value);

// Prometheus' number formatting (Go's 'g', shortest round-trip: 1, 0.25,
// 1e+06, +Inf, -Inf, NaN).
[[nodiscard]] std::string FormatMetricValue(double v);

}  // namespace globalsvc::obs
