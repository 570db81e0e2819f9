#include "lib/base/log.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace globalsvc {
namespace {

TEST_CASE("A log record comes back exactly from its encoding", "[base][log]") {
  const std::string hostile("sp ace=\"q\"\\ 3:abc \0nul \xff", 22);
  const LogFields fields{{"text", hostile}, {"count", std::uint64_t{18446744073709551615u}},
                         {"negative", -7},  {"flag", false},
                         {"ratio", 0.25},   {"", ""}};
  const std::string payload = EncodeLogRecord("applied: 2 objects", fields);
  const auto record = DecodeLogRecord(payload);
  REQUIRE(record.has_value());
  CHECK(record->message == "applied: 2 objects");
  REQUIRE(record->fields.size() == 6);
  CHECK(record->fields[0].key == "text");
  CHECK(record->fields[0].value == hostile);
  CHECK(record->fields[0].kind == LogField::Kind::kString);
  CHECK(record->fields[1].value == "18446744073709551615");
  CHECK(record->fields[1].kind == LogField::Kind::kNumber);
  CHECK(record->fields[2].value == "-7");
  CHECK(record->fields[3].value == "false");
  CHECK(record->fields[3].kind == LogField::Kind::kBool);
  CHECK(record->fields[4].value == "0.25");
  CHECK(record->fields[4].kind == LogField::Kind::kNumber);
  CHECK(record->fields[5].key.empty());
  CHECK(record->fields[5].value.empty());
}

TEST_CASE("A payload that is not a whole record is refused", "[base][log]") {
  const std::string good = EncodeLogRecord("m", {{"k", "v"}});
  CHECK(DecodeLogRecord(good).has_value());
  const std::size_t message_only = std::string("1:m").size();  // a record without fields
  CHECK(DecodeLogRecord(good.substr(0, message_only)).has_value());
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    if (cut == message_only) continue;
    INFO("cut at " << cut);
    CHECK_FALSE(DecodeLogRecord(good.substr(0, cut)).has_value());
  }
  CHECK_FALSE(DecodeLogRecord("plain text from someone else").has_value());
  CHECK_FALSE(DecodeLogRecord("99999999999999999999999:x").has_value());
  CHECK_FALSE(DecodeLogRecord("1:mx1:k1:v").has_value());  // unknown kind
  CHECK_FALSE(DecodeLogRecord("-1:m").has_value());
}

TEST_CASE("Numbers JSON cannot hold are written as text", "[base][log]") {
  const LogField nan("v", std::numeric_limits<double>::quiet_NaN());
  CHECK(nan.value == "NaN");
  CHECK(nan.kind == LogField::Kind::kString);
  const LogField inf("v", -std::numeric_limits<double>::infinity());
  CHECK(inf.value == "-Inf");
  CHECK(inf.kind == LogField::Kind::kString);
  const LogField null_text("v", static_cast<const char*>(nullptr));
  CHECK(null_text.value.empty());
}

}  // namespace
}  // namespace globalsvc
