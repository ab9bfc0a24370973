#include "sandboxd/filter_cache.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace secureos::sandboxd {

absl::StatusOr<std::shared_ptr<const CompiledFilter>> FilterCache::Get(
    const v1::SeccompProfile& profile, bool learn, int launcher_fd) {
  std::string key;
  google::protobuf::io::StringOutputStream stream(&key);
  {
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    profile.SerializeToCodedStream(&out);
  }
  absl::StrAppend(&key, "|", learn ? 1 : 0, "|", launcher_fd);
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      recent_.splice(recent_.begin(), recent_, it->second.position);
      return it->second.filter;
    }
  }
  // Compiled without the lock: a slow profile must not hold up the others.
  absl::StatusOr<std::unique_ptr<CompiledFilter>> compiled =
      CompiledFilter::Compile(profile, learn, launcher_fd);
  if (!compiled.ok()) return compiled.status();
  std::shared_ptr<const CompiledFilter> filter(std::move(*compiled));
  absl::MutexLock lock(&mu_);
  if (entries_.count(key) == 0) {
    recent_.push_front(key);
    entries_[key] = Entry{filter, recent_.begin()};
    while (entries_.size() > capacity_) {
      entries_.erase(recent_.back());
      recent_.pop_back();
    }
  }
  return filter;
}

size_t FilterCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace secureos::sandboxd
