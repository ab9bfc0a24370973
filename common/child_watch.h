// What the daemons that launch processes (capd's spawns, sandboxd's workloads) share to
// watch them: one epoll set per daemon holding each process's pidfd and output pipes, the
// output captured as bounded chunks, and the bounded memory of exited ones.
#ifndef SECUREOS_COMMON_CHILD_WATCH_H_
#define SECUREOS_COMMON_CHILD_WATCH_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/fd.h"

namespace secureos {

// Epoll keys: (key << 2) | 0 for the pidfd, | 1 for stdout, | 2 for stderr.
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

}  // namespace secureos

#endif  // SECUREOS_COMMON_CHILD_WATCH_H_
