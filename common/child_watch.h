// What the daemons that launch processes (capd's spawns, sandboxd's workloads) share to
// watch them: one epoll set per daemon holding each process's pidfd and output pipes, the
// output captured as bounded chunks, and the bounded memory of exited ones.
#ifndef SECUREOS_COMMON_CHILD_WATCH_H_
#define SECUREOS_COMMON_CHILD_WATCH_H_

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/fd.h"

namespace secureos {

// A daemon's epoll set and the eventfd (key 0) that wakes its monitor thread.
struct WatchSet {
  UniqueFd epoll;
  UniqueFd wake;
};
absl::StatusOr<WatchSet> OpenWatchSet();
// Wakes the thread waiting on the set (to stop, or to see a new deadline).
void Wake(int wake);

// Epoll keys: (key << 2) | 0 for the pidfd, | 1 for stdout, | 2 for stderr (key 0 is the
// eventfd's).
inline uint64_t WatchKey(uint64_t key, int which) { return (key << 2) | static_cast<uint64_t>(which); }
inline uint64_t KeyOf(uint64_t data) { return data >> 2; }
inline int WhichOf(uint64_t data) { return static_cast<int>(data & 3); }

// Adds `pidfd` and the valid ones of out[1], out[2] to `epoll` under `key`; a failure is
// logged with `id` (the process stays known, only unwatched).
void WatchChild(int epoll, uint64_t key, int pidfd, const UniqueFd out[3], absl::string_view id);

// Reads what the non-blocking `*fd` holds now, handing each chunk to `append` while
// `*captured` stays within `cap` bytes; beyond that it reads and drops, so the writer never
// blocks. At end of file (or an error) the fd leaves `epoll` and is closed.
void DrainChildOutput(int epoll, UniqueFd* fd, size_t* captured, size_t cap,
                      const std::function<void(const char* data, size_t size)>& append);

// Forgets the oldest entries of `order` (ids of exited entries of `entries`) beyond
// `limit`, skipping those `keep` holds on to (being streamed).
template <typename Entry>
void ForgetOldest(std::deque<std::string>* order, size_t limit,
                  std::map<std::string, std::unique_ptr<Entry>>* entries,
                  const std::function<bool(const Entry&)>& keep) {
  size_t excess = order->size() > limit ? order->size() - limit : 0;
  for (auto it = order->begin(); excess > 0 && it != order->end();) {
    auto e = entries->find(*it);
    if (e != entries->end() && keep(*e->second)) {
      ++it;
      continue;
    }
    if (e != entries->end()) entries->erase(e);
    it = order->erase(it);
    --excess;
  }
}

// Streams entry `id`'s history (Entry has `std::vector<Event> history` and `int followers`,
// both guarded by `mu`) from its first record, waiting on `changed` for more, until
// `ended(entry)`; returns when it ended and all was written, the reader went away (`write`
// false) or `cancelled()`. The entry counts as followed meanwhile (ForgetOldest's `keep`).
template <typename Entry, typename Event>
absl::Status FollowHistory(absl::Mutex* mu, absl::CondVar* changed,
                           const std::map<std::string, std::unique_ptr<Entry>>& entries,
                           const std::string& id, const std::function<bool(const Entry&)>& ended,
                           const std::function<bool(const Event&)>& write,
                           const std::function<bool()>& cancelled) {
  {
    absl::MutexLock lock(mu);
    auto it = entries.find(id);
    if (it == entries.end()) return absl::NotFoundError(absl::StrCat("id: no such entry ", id));
    ++it->second->followers;
  }
  // While followed the entry is never forgotten, so every lookup below finds it.
  auto unfollow = absl::MakeCleanup([&] {
    absl::MutexLock lock(mu);
    --entries.at(id)->followers;
  });
  size_t cursor = 0;
  for (;;) {
    std::vector<Event> batch;
    bool done;
    {
      absl::MutexLock lock(mu);
      const Entry& e = *entries.at(id);
      if (cursor >= e.history.size() && !ended(e)) changed->WaitWithTimeout(mu, absl::Milliseconds(200));
      batch.assign(e.history.begin() + std::min(cursor, e.history.size()), e.history.end());
      cursor = e.history.size();
      done = ended(e);
    }
    for (const Event& ev : batch) {
      if (!write(ev)) return absl::OkStatus();
    }
    if (done) return absl::OkStatus();
    if (cancelled()) return absl::CancelledError("the caller went away");
  }
}

}  // namespace secureos

#endif  // SECUREOS_COMMON_CHILD_WATCH_H_
