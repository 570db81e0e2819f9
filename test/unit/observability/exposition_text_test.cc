#include "lib/observability/exposition_text.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace globalsvc::obs {
namespace {

TEST_CASE("Values format like Prometheus' Go client", "[observability]") {
  CHECK(FormatMetricValue(0) == "0");
  CHECK(FormatMetricValue(1) == "1");
  CHECK(FormatMetricValue(-1.5) == "-1.5");
  CHECK(FormatMetricValue(0.1) == "0.1");
  CHECK(FormatMetricValue(0.0001) == "0.0001");
  CHECK(FormatMetricValue(0.00001) == "1e-05");
  CHECK(FormatMetricValue(123456) == "123456");
  CHECK(FormatMetricValue(1e6) == "1e+06");
  CHECK(FormatMetricValue(1234567) == "1.234567e+06");
  CHECK(FormatMetricValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatMetricValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(FormatMetricValue(std::nan("")) == "NaN");
}

TEST_CASE("Metric and label names follow Prometheus' grammar", "[observability]") {
  CHECK(IsMetricName("globalsvc_reconcile_total"));
  CHECK(IsMetricName("a:b_c1"));
  CHECK_FALSE(IsMetricName(""));
  CHECK_FALSE(IsMetricName("1abc"));
  CHECK_FALSE(IsMetricName("a-b"));
  CHECK(IsLabelName("cluster"));
  CHECK_FALSE(IsLabelName("__reserved"));
  CHECK_FALSE(IsLabelName("a:b"));  // colons are for metric names only
  CHECK_FALSE(IsLabelName("9lives"));
}

TEST_CASE("Help text and label values are escaped", "[observability]") {
  std::string help;
  AppendEscapedHelp(help, "a\\b\n\"c\"");
  CHECK(help == "a\\\\b\\n\"c\"");  // quotes stay as they are in help text
  std::string labels;
  AppendLabels(labels, {"reason", "path"}, {"x\"y", "a\nb"}, "le", "0.5");
  CHECK(labels == "{reason=\"x\\\"y\",path=\"a\\nb\",le=\"0.5\"}");
  std::string none;
  AppendLabels(none, {}, {});
  CHECK(none.empty());
  std::string sample;
  AppendSample(sample, "up", {}, {}, "1");
  CHECK(sample == "up 1\n");
}

}  // namespace
}  // namespace globalsvc::obs
