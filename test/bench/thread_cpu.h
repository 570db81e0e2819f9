#pragma once

// CPU time of the calling thread, for the single-threaded benchmarks: it
// leaves out what other processes on a shared machine take.

#include <ctime>

namespace globalsvc::bench {

inline double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

}  // namespace globalsvc::bench
