// Compiled seccomp programs kept per profile: a workload whose profile was seen before
// (the built-ins, a service's own) pays no libseccomp compilation on its request path.
// Compiled filters are immutable, so one is shared by every workload that uses it.
#ifndef SECUREOS_SANDBOXD_FILTER_CACHE_H_
#define SECUREOS_SANDBOXD_FILTER_CACHE_H_

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/seccomp/compiled_filter.h"

namespace secureos::sandboxd {

class FilterCache {
 public:
  // Keeps at most `capacity` programs, least recently used dropped first.
  explicit FilterCache(size_t capacity = 64) : capacity_(capacity) {}

  // The compiled program for (profile, learn, launcher_fd), compiling it on a miss. Errors
  // are returned as CompiledFilter::Compile gives them and never kept.
  absl::StatusOr<std::shared_ptr<const CompiledFilter>> Get(const v1::SeccompProfile& profile,
                                                            bool learn, int launcher_fd);

  size_t size() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<std::string> recent_ ABSL_GUARDED_BY(mu_);  // Most recent first.
  struct Entry {
    std::shared_ptr<const CompiledFilter> filter;
    std::list<std::string>::iterator position;
  };
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_FILTER_CACHE_H_
