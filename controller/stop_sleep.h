#pragma once

// A sleep that a thread's stop request ends at once.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace globalsvc::controller {

// Sleeps until `delay` passes or `stop` is requested; false when stopped.
inline bool SleepFor(std::stop_token stop, std::chrono::milliseconds delay) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  return !wake.wait_for(lock, stop, delay, [] { return false; }) && !stop.stop_requested();
}

}  // namespace globalsvc::controller
