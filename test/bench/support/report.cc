#include "test/bench/support/report.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>

namespace globalsvc::bench {
namespace {

std::atomic<pid_t> running_child{-1};

}  // namespace

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return "load " + one;
}

void SetRunningChild(pid_t pid) {
  running_child = pid;
}

void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
  if (const pid_t child = running_child.exchange(-1); child > 0) {
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  std::exit(1);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string Today() {
  std::time_t now = std::time(nullptr);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", std::gmtime(&now));
  return text;
}

void AppendMarkdown(const std::string& markdown_file, const std::string& text) {
  std::printf("%s", text.c_str());
  if (markdown_file.empty()) return;
  std::ofstream(markdown_file, std::ios::app) << text;
}

void ParseFlags(int argc, char** argv, const FlagSetters& setters) {
  if (argc % 2 == 0) Die(std::string("flag without a value: ") + argv[argc - 1]);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const auto setter = setters.find(flag);
    if (setter == setters.end()) Die("unknown flag " + flag);
    try {
      setter->second(argv[i + 1]);
    } catch (const std::exception& error) {
      Die(flag + " " + argv[i + 1] + ": " + error.what());
    }
  }
}

}  // namespace globalsvc::bench
