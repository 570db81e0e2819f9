#pragma once

// A small command-line flag parser: "--name value", "--name=value", "-f value",
// repeatable flags, and positional arguments. Unknown flags are usage errors.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::cli {

struct FlagSpec {
  std::set<std::string> valued;    // flags that take a value ("--cluster", "-f")
  std::set<std::string> switches;  // flags without a value ("--l7", "--help")
};

class ParsedFlags {
 public:
  [[nodiscard]] std::optional<std::string> Get(const std::string& name) const;
  [[nodiscard]] std::string GetOr(const std::string& name, std::string fallback) const;
  [[nodiscard]] std::vector<std::string> GetAll(const std::string& name) const;
  [[nodiscard]] bool Has(const std::string& name) const;
  [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec);
  std::multimap<std::string, std::string> values_;
  std::set<std::string> switches_;
  std::vector<std::string> positional_;
};

// "90", "90s", "10m", "1h30m", "500ms": a non-negative duration (a plain
// number is seconds); false, leaving `out` alone, for anything else.
[[nodiscard]] bool ParseDuration(const std::string& text, std::chrono::milliseconds& out);

// Errors are kInvalidInput with a message fit for the user.
[[nodiscard]] Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                             const FlagSpec& spec);

}  // namespace globalsvc::cli
