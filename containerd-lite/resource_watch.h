// A container's resource use as ContainerStats (from sandboxd's view of its workload), and
// the watch that turns successive samples into events: a threshold crossed upward (memory
// working set, CPU rate, tasks, as a percentage of the container's limit) and new OOM kills.
//
// Memory is the working set, usage minus inactive file cache, as cAdvisor and the kubelet
// report it (sandboxd reads it from the cgroup: Usage.memory_working_set_bytes).
#ifndef SECUREOS_CONTAINERD_LITE_RESOURCE_WATCH_H_
#define SECUREOS_CONTAINERD_LITE_RESOURCE_WATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/containerd_lite.pb.h"
#include "proto/sandboxd.pb.h"

namespace secureos::ctr {

// The sample of container `id` whose workload sandboxd describes as `info` at `now`.
// cpu_rate needs `previous` (the same container's last sample; may be null); limits come
// from the workload's spec (absent when unlimited).
containerd_lite::v1::ContainerStats StatsOf(const std::string& id,
                                            const sandboxd::v1::WorkloadInfo& info,
                                            const containerd_lite::v1::ContainerStats* previous,
                                            absl::Time now);

// One resource over its threshold.
struct Crossing {
  std::string resource;  // "memory", "cpu" or "pids".
  double value = 0;      // Bytes, CPUs or tasks.
  double threshold = 0;  // In the same unit.
  double limit = 0;
};

class ResourceWatch {
 public:
  // The crossings `sample` makes at `percent` of each limit (1-100; 0: none): a resource is
  // reported when it goes over, and again only after it has been back under. cpu_rate is
  // computed against this watch's previous sample.
  std::vector<Crossing> Observe(containerd_lite::v1::ContainerStats* sample, uint32_t percent);
  // OOM kills seen in `sample` beyond those already reported.
  uint64_t NewOomKills(const containerd_lite::v1::ContainerStats& sample);
  // The previous sample, for cpu_rate.
  const containerd_lite::v1::ContainerStats* last() const { return last_ ? &*last_ : nullptr; }
  void set_last(const containerd_lite::v1::ContainerStats& s) { last_ = s; }

 private:
  bool memory_over_ = false;
  bool cpu_over_ = false;
  bool pids_over_ = false;
  uint64_t oom_kills_ = 0;
  std::optional<containerd_lite::v1::ContainerStats> last_;
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_RESOURCE_WATCH_H_
