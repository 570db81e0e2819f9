#include "lib/mesh/owned_hash.h"

#include <catch2/catch.hpp>
#include <functional>

namespace globalsvc::mesh {
namespace {

using nlohmann::json;

const OwnedFieldList& Owned() {
  static const OwnedFieldList owned{.labels = {"ours"},
                                    .annotations = {"note"},
                                    .spec = {"hosts", "ports"},
                                    .labels_named_by = "selects"};
  return owned;
}

json Written() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Thing",
    "metadata": {"name": "n", "namespace": "ns",
                 "labels": {"ours": "yes", "app": "a"},
                 "annotations": {"note": "x", "selects": "app"}},
    "spec": {"hosts": ["h"], "ports": [{"number": 80}]}})");
}

TEST_CASE("The owned hash ignores what others write and sees every owned change", "[mesh][hash]") {
  const std::string written = OwnedFieldsHash(Written(), Owned());

  json stored = Written();  // as the API server returns it
  stored["metadata"]["uid"] = "u-1";
  stored["metadata"]["resourceVersion"] = "42";
  stored["metadata"]["labels"]["someone-else"] = "z";
  stored["metadata"]["annotations"]["kubectl"] = "z";
  stored["metadata"]["labels"]["ours-not"] = nullptr;
  stored["spec"]["exportTo"] = json::array({"*"});
  stored["status"] = {{"ok", true}};
  CHECK(OwnedFieldsHash(stored, Owned()) == written);

  const auto changed = [&](const std::function<void(json&)>& edit) {
    json edited = Written();
    edit(edited);
    return OwnedFieldsHash(edited, Owned()) != written;
  };
  CHECK(changed([](json& o) { o["metadata"]["labels"]["ours"] = "no"; }));
  CHECK(changed([](json& o) { o["metadata"]["labels"].erase("ours"); }));
  CHECK(changed([](json& o) { o["metadata"]["annotations"]["note"] = "y"; }));
  CHECK(changed([](json& o) { o["metadata"]["name"] = "m"; }));
  CHECK(changed([](json& o) { o["kind"] = "Other"; }));
  CHECK(changed([](json& o) { o["spec"]["ports"][0]["number"] = 81; }));
  CHECK(changed([](json& o) { o["spec"].erase("hosts"); }));
  CHECK(changed([](json& o) { o.erase("spec"); }));
  // A label the annotation names is owned too, and so is the annotation.
  CHECK(changed([](json& o) { o["metadata"]["labels"]["app"] = "b"; }));
  CHECK(changed([](json& o) { o["metadata"]["annotations"]["selects"] = ""; }));
  // Absent and null read the same.
  CHECK_FALSE(changed([](json& o) { o["spec"]["other"] = nullptr; }));
  json null_label = Written();
  null_label["metadata"]["annotations"]["note"] = nullptr;
  json no_label = Written();
  no_label["metadata"]["annotations"].erase("note");
  CHECK(OwnedFieldsHash(null_label, Owned()) == OwnedFieldsHash(no_label, Owned()));
}

TEST_CASE("The owned hash of any JSON value is defined", "[mesh][hash]") {
  CHECK_NOTHROW(OwnedFieldsHash(json::array(), Owned()));
  CHECK_NOTHROW(OwnedFieldsHash(json{{"metadata", 3}, {"spec", "x"}, {"kind", 1}}, Owned()));
  CHECK_NOTHROW(OwnedFieldsHash(
      json::parse(R"({"metadata": {"labels": 7, "annotations": {"selects": 5}}})"), Owned()));
  // Neither has a field we own.
  CHECK(OwnedFieldsHash(json::object(), Owned()) == OwnedFieldsHash(json::array(), Owned()));
}

}  // namespace
}  // namespace globalsvc::mesh
