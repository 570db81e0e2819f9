#include "lib/mesh/cluster_builder.h"

#include "lib/mesh/object_decoder.h"

namespace globalsvc::mesh {

void ClusterBuilder::Add(const nlohmann::json& object) {
  const DecodeContext context{options_.cluster_name, diagnostics_};
  if (!object.is_object()) {
    if (diagnostics_) {
      diagnostics_->push_back({Severity::kWarning,
                               DiagnosticCode::kInvalidObject,
                               {options_.cluster_name, "", "", ""},
                               "a document is not an object; ignored"});
    }
    return;
  }
  auto kind_it = object.find("kind");
  const std::string kind =
      kind_it != object.end() && kind_it->is_string() ? kind_it->get<std::string>() : "";
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List"))) {
    auto items = object.find("items");
    if (items != object.end() && items->is_array()) {
      for (const auto& item : *items) {
        // Typed lists (ServiceList) may omit each item's kind.
        if (item.is_object() && !item.contains("kind") && kind != "List") {
          nlohmann::json typed = item;
          typed["kind"] = kind.substr(0, kind.size() - 4);
          Add(typed);
        } else {
          Add(item);
        }
      }
    }
    return;
  }
  if (kind == "Service") {
    if (auto service = DecodeService(object, context)) state_.UpsertService(std::move(*service));
    if (InControlPlaneNamespace(object)) {
      if (auto address = DecodeGatewayAddress(object, context)) {
        state_.UpsertGatewayAddress(std::move(*address));
      }
    }
  } else if (kind == "Pod") {
    if (auto pod = DecodePod(object, context)) state_.UpsertPod(std::move(*pod));
  } else if (kind == "Namespace") {
    if (auto ns = DecodeNamespace(object, context)) state_.UpsertNamespace(std::move(*ns));
  } else if (kind == "EndpointSlice") {
    if (auto slice = DecodeEndpointSlice(object, context)) {
      state_.UpsertEndpointSlice(std::move(*slice));
    }
  } else if (kind == "Node") {
    if (auto node = DecodeNode(object, context)) state_.UpsertNode(std::move(*node));
  } else if (kind == "Deployment") {
    if (InControlPlaneNamespace(object)) {
      if (auto gateway = DecodeGateway(object, context)) state_.UpsertGateway(std::move(*gateway));
    }
  } else if (kind == "Segment") {
    if (InControlPlaneNamespace(object)) {
      if (auto segment = DecodeSegment(object, context)) state_.UpsertSegment(std::move(*segment));
    }
  }
}

ClusterState ClusterBuilder::Build() && {
  if (state_.network().empty()) {
    if (const Namespace* ns = state_.FindNamespace(options_.control_plane_namespace)) {
      state_.set_network(ns->network_label);
    }
  }
  return std::move(state_);
}

bool ClusterBuilder::InControlPlaneNamespace(const nlohmann::json& object) const {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return false;
  auto ns = metadata->find("namespace");
  return ns != metadata->end() && ns->is_string() &&
         ns->get_ref<const std::string&>() == options_.control_plane_namespace;
}

}  // namespace globalsvc::mesh
