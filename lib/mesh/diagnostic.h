#pragma once

// Problems found while decoding or planning, returned as data so the caller
// decides how to surface them (Event, metric, status, log, CLI output).

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/log.h"

namespace globalsvc::mesh {

enum class Severity { kInfo, kWarning, kError };

enum class DiagnosticCode {
  kInvalidObject,        // an object (or one of its fields) could not be read
  kUnknownScope,         // solo.io/service-scope value not understood
  kDeprecatedScope,      // global-only
  kInvalidTakeover,      // solo.io/service-takeover neither "true" nor "false"
  kTakeoverNotHonoured,  // takeover asked where upstream istiod cannot apply it
  kSegmentRefused,       // a remote in a segment the target does not know (or knows otherwise)
  kInvalidSegment,       // a Segment whose domain or alias cannot be used
  kSegmentScopeWithoutSegment,  // scope "segment" in a cluster of the default segment
  kAliasSkipped,                // a hostname alias that does not expand for a service
  kAliasCollision,              // two services expand to one alias: the first key keeps it
  kUnknownTrafficDistribution,
  kTrafficDistributionDisagreement,
  kPortConflict,      // one port number defined differently across clusters
  kPortNameConflict,  // one port name used for different numbers
  kNonTcpPort,        // UDP/SCTP ports are not exported
  kNoTcpPorts,        // a global service without any TCP port
  kInvalidAddress,
  kRefusedAddress,          // loopback, link-local, unspecified, multicast or broadcast
  kObjectQuotaExceeded,     // a remote cluster holds more objects than it may keep here
  kUnsupportedAddressType,  // FQDN EndpointSlices
  kMissingLocality,
  kNoGateway,         // remote network without an east-west gateway
  kNoGatewayAddress,  // remote network whose east-west gateway has no address
  kEndpointCapExceeded,
  kUnknownCluster,
};

struct ObjectRef {
  std::string cluster;
  std::string kind;
  std::string namespace_name;
  std::string name;
};

struct Diagnostic {
  Severity severity = Severity::kWarning;
  DiagnosticCode code = DiagnosticCode::kInvalidObject;
  ObjectRef object;
  std::string message;
};

using Diagnostics = std::vector<Diagnostic>;

[[nodiscard]] std::string_view SeverityName(Severity severity);
[[nodiscard]] std::string_view DiagnosticCodeName(DiagnosticCode code);

// One line: "warning UnknownScope cluster1 Service httpbin/in-ambient: message".
[[nodiscard]] std::string FormatDiagnostic(const Diagnostic& diagnostic);

// The same as log fields: severity, code, cluster, object and detail.
[[nodiscard]] std::vector<LogField> DiagnosticLogFields(const Diagnostic& diagnostic);

[[nodiscard]] bool HasErrors(const Diagnostics& diagnostics);

}  // namespace globalsvc::mesh
