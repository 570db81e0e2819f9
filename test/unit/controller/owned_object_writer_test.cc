// The one policy for writing owned objects, against the object calls kept in
// memory: foreign objects are refused, whole objects must carry our label,
// applies are forced under our field manager, status objects are created and
// never taken over, deletes carry the uid, and nothing is written while not
// leading.

#include "controller/owned_object_writer.h"

#include <catch2/catch.hpp>

#include "lib/mesh/model.h"
#include "test/support/memory_object_api.h"

namespace globalsvc::controller {
namespace {

using nlohmann::json;

const kube::ResourceType& Entries() {
  return kube::resources::ServiceEntries();
}

json Entry(const std::string& name, bool ours) {
  json object = {{"apiVersion", "networking.istio.io/v1"},
                 {"kind", "ServiceEntry"},
                 {"metadata", {{"name", name}, {"namespace", "istio-system"}}},
                 {"spec", {{"hosts", {name + ".mesh.internal"}}}}};
  if (ours) object["metadata"]["labels"] = {{mesh::kManagedByLabel, mesh::kManagedByValue}};
  return object;
}

struct Fixture {
  testsupport::MemoryObjectApi api;
  bool leading = true;
  OwnedObjectWriter writer{api, [this] { return leading; }};
};

TEST_CASE("Owned writes: ours or absent is applied; foreign or unlabelled is refused",
          "[owned-writer]") {
  Fixture f;
  auto written = f.writer.Apply(Entries(), "istio-system", Entry("a", true), Observed::kAbsent);
  REQUIRE(written.ok());
  CHECK((*written)["metadata"]["labels"][mesh::kManagedByLabel] == mesh::kManagedByValue);
  CHECK(f.writer.Apply(Entries(), "istio-system", Entry("a", true), Observed::kOurs).ok());

  const int writes = f.api.Writes();
  auto foreign = f.writer.Apply(Entries(), "istio-system", Entry("b", true), Observed::kForeign);
  REQUIRE_FALSE(foreign.ok());
  CHECK_FALSE(foreign.error().retryable());
  CHECK(foreign.error().message.find("istio-system/b") != std::string::npos);
  CHECK(foreign.error().message.find("not managed by globalsvc") != std::string::npos);

  auto unlabelled = f.writer.Apply(Entries(), "istio-system", Entry("c", false), Observed::kAbsent);
  REQUIRE_FALSE(unlabelled.ok());
  CHECK(unlabelled.error().code == ErrorCode::kInternal);
  CHECK(f.api.Writes() == writes);
}

TEST_CASE("Owned writes: nothing is written while not leading, and that is retried",
          "[owned-writer]") {
  Fixture f;
  const json seeded = f.api.Seed(Entries(), Entry("a", true));
  f.leading = false;
  auto applied = f.writer.Apply(Entries(), "istio-system", Entry("a", true), Observed::kOurs);
  REQUIRE_FALSE(applied.ok());
  CHECK(applied.error().retryable());
  auto deleted = f.writer.Delete(Entries(), "istio-system", "a", seeded["metadata"]["uid"]);
  REQUIRE_FALSE(deleted.ok());
  CHECK(deleted.error().retryable());
  CHECK_FALSE(f.writer.Create(Entries(), "istio-system", Entry("b", true)).ok());
  CHECK(f.api.Writes() == 0);
}

TEST_CASE("Owned writes: a status object is created, never taken over", "[owned-writer]") {
  Fixture f;
  REQUIRE(f.writer.Create(Entries(), "istio-system", Entry("a", true)).ok());
  auto again = f.writer.Create(Entries(), "istio-system", Entry("a", true));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);

  json status = {{"apiVersion", "networking.istio.io/v1"},
                 {"kind", "ServiceEntry"},
                 {"metadata", {{"name", "a"}, {"namespace", "istio-system"}}},
                 {"status", {{"note", "written"}}}};
  CHECK(f.writer.ApplyStatus(Entries(), "istio-system", status, Observed::kOurs).ok());
  CHECK((*f.api.Find(Entries(), "istio-system", "a"))["status"]["note"] == "written");
  // Status needs an object first, and never goes on a foreign one.
  auto absent = f.writer.ApplyStatus(Entries(), "istio-system", status, Observed::kAbsent);
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.error().code == ErrorCode::kNotFound);
  CHECK_FALSE(f.writer.ApplyStatus(Entries(), "istio-system", status, Observed::kForeign).ok());
}

TEST_CASE("Owned deletes carry the uid observed; gone already is fine", "[owned-writer]") {
  Fixture f;
  const json old = f.api.Seed(Entries(), Entry("a", true));
  const std::string old_uid = old["metadata"]["uid"];
  REQUIRE(f.api.Delete(Entries(), "istio-system", "a").ok());
  const json newer = f.api.Seed(Entries(), Entry("a", true));

  // The name now holds a newer object: kept.
  auto stale = f.writer.Delete(Entries(), "istio-system", "a", old_uid);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == ErrorCode::kConflict);
  CHECK(f.api.Find(Entries(), "istio-system", "a"));

  auto now = f.writer.Delete(Entries(), "istio-system", "a", newer["metadata"]["uid"]);
  REQUIRE(now.ok());
  CHECK(*now == Deleted::kNow);
  auto gone = f.writer.Delete(Entries(), "istio-system", "a", newer["metadata"]["uid"]);
  REQUIRE(gone.ok());
  CHECK(*gone == Deleted::kAlreadyGone);

  // Without a uid there is no fence: refused.
  (void)f.api.Seed(Entries(), Entry("b", true));
  auto unfenced = f.writer.Delete(Entries(), "istio-system", "b", "");
  REQUIRE_FALSE(unfenced.ok());
  CHECK(unfenced.error().code == ErrorCode::kInternal);
  CHECK(f.api.Find(Entries(), "istio-system", "b"));
}

}  // namespace
}  // namespace globalsvc::controller
