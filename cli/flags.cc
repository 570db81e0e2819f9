#include "cli/flags.h"

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

bool ParseDuration(const std::string& text, std::chrono::milliseconds& out) {
  constexpr const char* kDigits = "0123456789";
  if (text.empty()) return false;
  std::chrono::milliseconds total{0};
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t digits_end = text.find_first_not_of(kDigits, pos);
    if (digits_end == pos) return false;
    const std::string digits = text.substr(pos, digits_end - pos);
    if (digits.size() > 9) return false;  // no overflow, and nobody means 30 years
    const long value = std::stol(digits);
    if (digits_end == std::string::npos) {
      if (pos != 0) return false;  // "1m30": a unit is missing
      total += std::chrono::seconds(value);
      break;
    }
    std::size_t unit_end = text.find_first_of(kDigits, digits_end);
    if (unit_end == std::string::npos) unit_end = text.size();
    const std::string unit = text.substr(digits_end, unit_end - digits_end);
    if (unit == "ms") {
      total += std::chrono::milliseconds(value);
    } else if (unit == "s") {
      total += std::chrono::seconds(value);
    } else if (unit == "m") {
      total += std::chrono::minutes(value);
    } else if (unit == "h") {
      total += std::chrono::hours(value);
    } else {
      return false;
    }
    pos = unit_end;
  }
  out = total;
  return true;
}

}  // namespace globalsvc::cli
