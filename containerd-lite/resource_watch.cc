#include "containerd-lite/resource_watch.h"

#include "google/protobuf/util/time_util.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;
using google::protobuf::util::TimeUtil;

// One resource's crossing check; `over` remembers that it was reported.
void Check(const char* resource, bool has_value, double value, bool has_limit, double limit,
           uint32_t percent, bool* over, std::vector<Crossing>* out) {
  if (!has_value || !has_limit || limit <= 0 || percent == 0) return;
  const double threshold = limit * percent / 100.0;
  if (value < threshold) {
    *over = false;
    return;
  }
  if (*over) return;
  *over = true;
  out->push_back(Crossing{resource, value, threshold, limit});
}

}  // namespace

v1::ContainerStats StatsOf(const std::string& id, const sandboxd::v1::WorkloadInfo& info,
                           const v1::ContainerStats* previous, absl::Time now) {
  v1::ContainerStats s;
  s.set_id(id);
  *s.mutable_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  const sandboxd::v1::Usage& u = info.usage();
  const common::v1::ResourceLimits& limits = info.spec().limits();
  if (u.has_memory_working_set_bytes()) s.set_memory_working_set_bytes(u.memory_working_set_bytes());
  if (limits.has_memory_bytes()) s.set_memory_limit_bytes(limits.memory_bytes());
  if (u.has_cpu_usage_ns()) s.set_cpu_usage_ns(u.cpu_usage_ns());
  if (limits.has_cpu_millis()) s.set_cpu_limit(limits.cpu_millis() / 1000.0);
  if (u.has_pids_current()) s.set_pids(u.pids_current());
  if (limits.has_pids()) s.set_pids_limit(limits.pids());
  if (u.has_oom_kills()) s.set_oom_kills(u.oom_kills());
  if (previous != nullptr && previous->has_cpu_usage_ns() && s.has_cpu_usage_ns() &&
      s.cpu_usage_ns() >= previous->cpu_usage_ns()) {
    const int64_t wall = TimeUtil::TimestampToNanoseconds(s.time()) -
                         TimeUtil::TimestampToNanoseconds(previous->time());
    if (wall > 0) {
      s.set_cpu_rate(static_cast<double>(s.cpu_usage_ns() - previous->cpu_usage_ns()) / wall);
    }
  }
  return s;
}

std::vector<Crossing> ResourceWatch::Observe(v1::ContainerStats* s, uint32_t percent) {
  std::vector<Crossing> out;
  Check("memory", s->has_memory_working_set_bytes(), s->memory_working_set_bytes(),
        s->has_memory_limit_bytes(), s->memory_limit_bytes(), percent, &memory_over_, &out);
  Check("cpu", s->has_cpu_rate(), s->cpu_rate(), s->has_cpu_limit(), s->cpu_limit(), percent,
        &cpu_over_, &out);
  Check("pids", s->has_pids(), s->pids(), s->has_pids_limit(), s->pids_limit(), percent,
        &pids_over_, &out);
  last_ = *s;
  return out;
}

uint64_t ResourceWatch::NewOomKills(const v1::ContainerStats& s) {
  if (!s.has_oom_kills() || s.oom_kills() <= oom_kills_) return 0;
  const uint64_t fresh = s.oom_kills() - oom_kills_;
  oom_kills_ = s.oom_kills();
  return fresh;
}

}  // namespace secureos::ctr
