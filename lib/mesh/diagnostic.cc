#include "lib/mesh/diagnostic.h"

#include <algorithm>

namespace globalsvc::mesh {

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "unknown";
}

std::string_view DiagnosticCodeName(DiagnosticCode code) {
  switch (code) {
    case DiagnosticCode::kInvalidObject:
      return "InvalidObject";
    case DiagnosticCode::kUnknownScope:
      return "UnknownScope";
    case DiagnosticCode::kDeprecatedScope:
      return "DeprecatedScope";
    case DiagnosticCode::kInvalidTakeover:
      return "InvalidTakeover";
    case DiagnosticCode::kSegmentRefused:
      return "SegmentRefused";
    case DiagnosticCode::kInvalidSegment:
      return "InvalidSegment";
    case DiagnosticCode::kSegmentScopeWithoutSegment:
      return "SegmentScopeWithoutSegment";
    case DiagnosticCode::kAliasSkipped:
      return "AliasSkipped";
    case DiagnosticCode::kAliasCollision:
      return "AliasCollision";
    case DiagnosticCode::kTakeoverNotHonoured:
      return "TakeoverNotHonoured";
    case DiagnosticCode::kUnknownTrafficDistribution:
      return "UnknownTrafficDistribution";
    case DiagnosticCode::kTrafficDistributionDisagreement:
      return "TrafficDistributionDisagreement";
    case DiagnosticCode::kPortConflict:
      return "PortConflict";
    case DiagnosticCode::kPortNameConflict:
      return "PortNameConflict";
    case DiagnosticCode::kNonTcpPort:
      return "NonTcpPort";
    case DiagnosticCode::kNoTcpPorts:
      return "NoTcpPorts";
    case DiagnosticCode::kInvalidAddress:
      return "InvalidAddress";
    case DiagnosticCode::kRefusedAddress:
      return "RefusedAddress";
    case DiagnosticCode::kObjectQuotaExceeded:
      return "ObjectQuotaExceeded";
    case DiagnosticCode::kUnsupportedAddressType:
      return "UnsupportedAddressType";
    case DiagnosticCode::kMissingLocality:
      return "MissingLocality";
    case DiagnosticCode::kNoGateway:
      return "NoGateway";
    case DiagnosticCode::kNoGatewayAddress:
      return "NoGatewayAddress";
    case DiagnosticCode::kEndpointCapExceeded:
      return "EndpointCapExceeded";
    case DiagnosticCode::kUnknownCluster:
      return "UnknownCluster";
  }
  return "Unknown";
}

namespace {

// "Kind namespace/name", or "Kind name" for a cluster-scoped object.
std::string ObjectText(const Diagnostic& d) {
  std::string text = d.object.kind + ' ';
  if (!d.object.namespace_name.empty()) text += d.object.namespace_name + '/';
  return text + d.object.name;
}

}  // namespace

std::string FormatDiagnostic(const Diagnostic& d) {
  std::string out;
  out += SeverityName(d.severity);
  out += ' ';
  out += DiagnosticCodeName(d.code);
  if (!d.object.cluster.empty()) out += " cluster=" + d.object.cluster;
  if (!d.object.kind.empty()) out += ' ' + ObjectText(d);
  out += ": " + d.message;
  return out;
}

std::vector<LogField> DiagnosticLogFields(const Diagnostic& d) {
  std::vector<LogField> fields{{"severity", SeverityName(d.severity)},
                               {"code", DiagnosticCodeName(d.code)}};
  if (!d.object.cluster.empty()) fields.emplace_back("cluster", d.object.cluster);
  if (!d.object.kind.empty()) fields.emplace_back("object", ObjectText(d));
  fields.emplace_back("detail", d.message);
  return fields;
}

bool HasErrors(const Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace globalsvc::mesh
