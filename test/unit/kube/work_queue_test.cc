#include "lib/kube/work_queue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

namespace globalsvc::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("Work queue de-duplicates keys waiting to be processed", "[kube][queue]") {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.Add("ns/a");
  queue.Add("ns/b");
  queue.Add("ns/a");
  CHECK(queue.ready_count() == 2);
  CHECK(queue.TryGet() == "ns/a");
  CHECK(queue.TryGet() == "ns/b");
  CHECK_FALSE(queue.TryGet());
}

TEST_CASE("A key being processed is not handed out again until Done", "[kube][queue]") {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.Add("k");
  auto key = queue.TryGet();
  REQUIRE(key == "k");
  queue.Add("k");
  queue.Add("k");
  CHECK_FALSE(queue.TryGet());
  queue.Done("k");
  CHECK(queue.TryGet() == "k");
  queue.Done("k");
  CHECK_FALSE(queue.TryGet());
}

TEST_CASE("Delayed adds become ready when the clock reaches them - earliest wins",
          "[kube][queue]") {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.AddAfter("k", seconds(10));
  queue.AddAfter("k", seconds(5));
  queue.AddAfter("k", seconds(20));
  CHECK(queue.delayed_count() == 1);
  clock.Advance(seconds(4));
  CHECK_FALSE(queue.TryGet());
  clock.Advance(seconds(1));
  CHECK(queue.TryGet() == "k");
  queue.Done("k");
  clock.Advance(seconds(30));
  CHECK_FALSE(queue.TryGet());
}

TEST_CASE("Rate-limited adds back off per key exponentially - Forget resets", "[kube][queue]") {
  ManualClock clock;
  WorkQueue queue(clock, {milliseconds(100), milliseconds(1000), 2.0, 0.0});
  const auto ready_after = [&](const std::string& key) {
    // Returns how many 10 ms steps pass before the key is ready.
    int steps = 0;
    while (!queue.TryGet()) {
      clock.Advance(milliseconds(10));
      ++steps;
      REQUIRE(steps < 1000);
    }
    queue.Done(key);
    return steps * 10;
  };
  queue.AddRateLimited("k");
  CHECK(ready_after("k") == 100);
  queue.AddRateLimited("k");
  CHECK(ready_after("k") == 200);
  queue.AddRateLimited("k");
  CHECK(ready_after("k") == 400);
  WorkQueue other(clock);
  for (int i = 0; i < 5; ++i)
    other.AddRateLimited("other");
  CHECK(other.Failures("other") == 5);
  CHECK(queue.Failures("k") == 3);
  queue.AddRateLimited("k");
  CHECK(ready_after("k") == 800);
  queue.AddRateLimited("k");
  CHECK(ready_after("k") == 1000);  // capped
  queue.Forget("k");
  CHECK(queue.Failures("k") == 0);
  queue.AddRateLimited("k");
  CHECK(ready_after("k") == 100);
}

TEST_CASE("Get blocks until a delayed key is due and ShutDown wakes it", "[kube][queue]") {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.AddAfter("k", seconds(1));
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.Get(); });
  clock.Advance(seconds(2));
  worker.join();
  CHECK(got == "k");

  std::atomic<bool> returned = false;
  std::thread waiter([&] {
    CHECK_FALSE(queue.Get());
    returned = true;
  });
  queue.ShutDown();
  waiter.join();
  CHECK(returned);
  queue.Add("late");
  CHECK_FALSE(queue.TryGet());
}

TEST_CASE("Concurrent workers never process one key at once", "[kube][queue]") {
  WorkQueue queue(SystemClock::Instance());
  std::atomic<int> in_flight_k = 0;
  std::atomic<bool> overlap = false;
  std::atomic<int> processed = 0;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.Get()) {
        if (*key == "k" && in_flight_k.fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        if (*key == "k") in_flight_k.fetch_sub(1);
        ++processed;
        queue.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    queue.Add("k");
    queue.Add("key-" + std::to_string(i % 50));
  }
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while ((queue.ready_count() > 0) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  queue.ShutDown();
  for (auto& worker : workers)
    worker.join();
  CHECK_FALSE(overlap);
  CHECK(processed > 0);
}

}  // namespace
}  // namespace globalsvc::kube
