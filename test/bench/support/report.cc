#include "test/bench/support/report.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
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

}  // namespace globalsvc::bench
