#pragma once

// Keeps a ReflectorSink (a Cache) equal to one resource on one cluster: a paged
// LIST, then a WATCH from the list's resourceVersion with bookmarks and a
// jittered timeout, re-watching from the last seen version when the server
// ends the watch. 410 Gone (the version was compacted away) leads to a fresh
// LIST whose difference with the cache is what readers see, so objects that
// still exist are never reported deleted. Errors back off with jitter and
// honour Retry-After; terminal errors (401, 403) back off to the maximum rather
// than retrying hot. One thread per reflector.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "lib/base/log.h"
#include "lib/kube/backoff.h"
#include "lib/kube/clock.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/reflector_sink.h"

namespace globalsvc::kube {

struct ReflectorOptions {
  std::string namespace_name;  // empty: all namespaces
  ListOptions list;            // selectors and page size, also used by the watch
  // Each watch asks the server to end it after a time drawn from
  // [watch_timeout, 2 * watch_timeout), so many watches do not restart together.
  std::chrono::seconds watch_timeout{300};
  BackoffPolicy backoff{std::chrono::milliseconds(800), std::chrono::milliseconds(30'000), 2.0,
                        0.5};
  // Start by watching from this version instead of listing (resuming a
  // known state). An expired version is answered with 410 and a relist.
  std::string resume_from;
  // Relists asked for with Relist() are at least this far apart (a burst of
  // requests is one relist; a source of requests cannot make it list hot).
  std::chrono::milliseconds min_relist_interval{2000};
  std::uint64_t random_seed = std::random_device{}();
  // Nonzero: a resource type the server does not serve (404 on the list, a
  // CRD not installed) holds nothing; the sink is synced empty, no error is
  // recorded, and the list is tried again after this long.
  std::chrono::seconds absent_relist_interval{0};
};

struct ReflectorStats {
  std::uint64_t lists = 0;              // completed full lists
  std::uint64_t gone_relists = 0;       // relists caused by 410 Gone
  std::uint64_t requested_relists = 0;  // relists asked for with Relist()
  std::uint64_t watches = 0;            // watch requests made
  std::uint64_t events = 0;             // ADDED/MODIFIED/DELETED applied
  std::uint64_t bookmarks = 0;
  std::uint64_t errors = 0;  // failed lists or watches (each followed by a backoff)
  std::string last_error;    // empty after a success
};

class Reflector {
 public:
  Reflector(KubeClient& client, ResourceType type, ReflectorSink& sink,
            ReflectorOptions options = {}, Clock& clock = SystemClock::Instance());
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void Start();
  // Ends the current request at once and joins the thread. Idempotent.
  void Stop();
  // Asks the thread to end and returns at once; Stop() joins it. Called
  // before the client it shares is cancelled, the cancelled request reads
  // as a stop, not as a failed watch.
  void RequestStop();
  // Asks for a fresh LIST (the sink sees every object again, through
  // Begin/ReplaceItem/EndReplace): for a sink that kept less of some objects
  // than it now needs. Ends the current watch; requests made before the list
  // starts are served by it. Any thread; never blocks.
  void Relist();

  // The version the next watch starts from.
  [[nodiscard]] std::string resource_version() const;
  [[nodiscard]] ReflectorStats stats() const;
  [[nodiscard]] std::string description() const;
  // cluster, resource and namespace, as the first fields of a log record.
  [[nodiscard]] LogFields LogContext() const;

 private:
  void Run(std::stop_token stop);
  void RunLoop(std::stop_token stop);
  // Each step of the loop; false when the loop must start over (after the
  // wait a failure calls for) or stop.
  bool ListOrWait(std::stop_token stop);
  bool ProbeOrWait(std::stop_token stop);
  // One watch, and what its end calls for: go on, back off or relist.
  void WatchUntilItEnds(std::stop_token stop);
  Status ListAndReplace();
  // An empty list: what a resource type the server does not serve holds.
  void HoldNothing();
  // One watch; an exception from the sink or the decoder is an error (the
  // next attempt lists afresh), never the end of the thread.
  Status WatchOnce(std::stop_token stop, bool& made_progress);
  Status WatchStream(const WatchOptions& watch, std::stop_token stop, bool& made_progress);
  void Wait(std::stop_token stop, std::chrono::milliseconds delay);
  [[nodiscard]] bool RelistRequested() const;
  // A pending Relist(): waits out min_relist_interval since the last list,
  // then clears the version so that the loop lists. False when none.
  bool TakeRelistRequest(std::stop_token stop);
  void RecordError(const Error& error);
  // No error since the last successful request (takes the mutex).
  [[nodiscard]] bool Healthy() const;

  KubeClient& client_;
  const ResourceType type_;
  ReflectorSink& sink_;
  const ReflectorOptions options_;
  Clock& clock_;
  Backoff backoff_;
  std::mt19937_64 random_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string resource_version_;
  bool relist_requested_ = false;
  std::stop_source* watch_stop_ = nullptr;  // the watch in progress, if any
  Clock::TimePoint last_list_{};
  ReflectorStats stats_;
  std::jthread thread_;
};

}  // namespace globalsvc::kube
