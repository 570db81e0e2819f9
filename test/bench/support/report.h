// What every benchmark prints with: the machine's load, percentiles, the
// date, and one way to stop when the bench cannot go on.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace globalsvc::bench {

// "load 5.2": the 1-minute load average, printed next to every figure because
// the machine running the bench may be shared.
std::string LoadAverage();

// A child that Die stops before exiting, since exit() skips the destructors
// that would (an orphan would keep our stdout open). One at a time.
void SetRunningChild(pid_t pid);

// Prints "<program>: message" and exits 1, stopping the running child first.
[[noreturn]] void Die(const std::string& message);

template <typename T>
T Must(Result<T> result, const std::string& what) {
  if (!result.ok()) Die(what + ": " + result.error().message);
  return std::move(result).value();
}

double Percentile(std::vector<double> values, double p);

std::string Today();

// Prints `text` and appends it to `markdown_file` when one is named.
void AppendMarkdown(const std::string& markdown_file, const std::string& text);

// "--flag value" pairs, each handed to the setter of its flag; a flag without
// a setter or without a value, or a setter that throws (a number that is not
// one), ends the bench with a message naming the flag.
using FlagSetters = std::map<std::string, std::function<void(const std::string& value)>>;
void ParseFlags(int argc, char** argv, const FlagSetters& setters);

}  // namespace globalsvc::bench
