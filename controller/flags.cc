#include "controller/flags.h"

namespace globalsvc::cli {

std::optional<std::string> ParsedFlags::Get(const std::string& name) const {
  // The last occurrence wins, as in most CLIs.
  auto [begin, end] = values_.equal_range(name);
  if (begin == end) return std::nullopt;
  return std::prev(end)->second;
}

std::string ParsedFlags::GetOr(const std::string& name, std::string fallback) const {
  return Get(name).value_or(std::move(fallback));
}

std::vector<std::string> ParsedFlags::GetAll(const std::string& name) const {
  std::vector<std::string> all;
  auto [begin, end] = values_.equal_range(name);
  for (auto it = begin; it != end; ++it)
    all.push_back(it->second);
  return all;
}

bool ParsedFlags::Has(const std::string& name) const {
  return switches_.count(name) > 0 || values_.count(name) > 0;
}

Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec) {
  ParsedFlags parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.positional_.insert(parsed.positional_.end(), args.begin() + static_cast<long>(i) + 1,
                                args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positional_.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (spec.switches.count(name)) {
      if (value) return MakeError(ErrorCode::kInvalidInput, "flag " + name + " takes no value");
      parsed.switches_.insert(name);
      continue;
    }
    if (!spec.valued.count(name)) {
      return MakeError(ErrorCode::kInvalidInput, "unknown flag " + name);
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return MakeError(ErrorCode::kInvalidInput, "flag " + name + " needs a value");
      }
      value = args[++i];
    }
    parsed.values_.emplace(name, *value);
  }
  return parsed;
}

}  // namespace globalsvc::cli
