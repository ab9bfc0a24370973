// Google Benchmark micro-benchmarks of the suite's hot paths, without daemons or sockets:
//   seccomp filter build    sandboxd compiling a workload's profile into its BPF program
//                           (the default preset, and level 5's allowlist), on every Run
//   seccomp decision        the user-space half: which rule refused a notified syscall
//   event ring              publishing an event, and a subscriber reading a batch
//   rule evaluation         monitord's default rules over one event of a mixed stream
//   audit hashing           formatting one audit record and its SHA-256 chain hash
// Run: bazel run -c opt //bench:micro_bench [-- --benchmark_filter=Seccomp]
#include <sys/syscall.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "common/event_ring.h"
#include "monitord/audit/audit_chain.h"
#include "monitord/default_rules.h"
#include "monitord/rules/rule_engine.h"
#include "monitord/rules/rule_set.h"
#include "proto/common.pb.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/level_presets.h"
#include "sandboxd/seccomp/compiled_filter.h"

namespace secureos {
namespace {

namespace cv1 = ::secureos::common::v1;

// Above any workload's RLIMIT_NOFILE, as sandboxd's launcher fd is.
constexpr int kLauncherFd = 1 << 20;

sandboxd::v1::SeccompProfile PresetProfile(int level) {
  sandboxd::v1::SandboxSpec spec;
  if (level == 0) {
    sandboxd::ApplyDefaultPreset(&spec);
  } else if (!sandboxd::ApplyLevelPreset(level, &spec).ok()) {
    std::abort();  // The presets are the suite's own: a failure is a bug, not a measurement.
  }
  return spec.seccomp();
}

void BM_SeccompCompile(benchmark::State& state) {
  const sandboxd::v1::SeccompProfile profile = PresetProfile(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto filter = sandboxd::CompiledFilter::Compile(profile, /*learn=*/false, kLauncherFd);
    if (!filter.ok()) state.SkipWithError(std::string(filter.status().message()).c_str());
    benchmark::DoNotOptimize(filter);
  }
  state.SetLabel(state.range(0) == 0 ? "default preset" : absl::StrCat("level ", state.range(0)));
}
BENCHMARK(BM_SeccompCompile)->Arg(0)->Arg(5)->Unit(benchmark::kMicrosecond);

void BM_SeccompDecide(benchmark::State& state) {
  auto filter = sandboxd::CompiledFilter::Compile(PresetProfile(5), /*learn=*/false, kLauncherFd);
  if (!filter.ok()) {
    state.SkipWithError(std::string(filter.status().message()).c_str());
    return;
  }
  const uint64_t args[6] = {0, 0, 0, 0, 0, 0};
  const int calls[] = {SYS_ptrace, SYS_mount, SYS_socket, SYS_read};
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize((*filter)->Decide(calls[i++ % 4], args));
}
BENCHMARK(BM_SeccompDecide);

cv1::Event MakeEvent(int i) {
  cv1::Event e;
  e.set_source("bench");
  e.set_kind(i % 2 ? cv1::EVENT_KIND_SECCOMP_VIOLATION : cv1::EVENT_KIND_ACCESS_DENIED);
  e.set_severity(cv1::SEVERITY_NOTICE);
  e.mutable_principal()->set_id(absl::StrCat("uid:", 1000 + i % 7));
  e.set_message(absl::StrCat("event ", i));
  if (i % 2) {
    e.mutable_workload()->set_name(absl::StrCat("w", i % 5));
    e.mutable_workload()->set_syscall(i % 3 == 0 ? "ptrace" : "socket");
  }
  return e;
}

void BM_EventRingPublish(benchmark::State& state) {
  EventRing ring("bench", 4096);
  const cv1::Event e = MakeEvent(1);
  for (auto _ : state) benchmark::DoNotOptimize(ring.Publish(e));
}
BENCHMARK(BM_EventRingPublish);

void BM_EventRingRead(benchmark::State& state) {
  EventRing ring("bench", 4096);
  for (int i = 0; i < 4096; ++i) ring.Publish(MakeEvent(i));
  const uint64_t from = ring.oldest_sequence();
  const size_t batch = static_cast<size_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(ring.Read(from, batch, absl::ZeroDuration()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EventRingRead)->Arg(256);

void BM_RulesDefault(benchmark::State& state) {
  auto rules = monitord::RuleSet::FromText(embedded::kDefaultRules, "default.rules");
  if (!rules.ok()) {
    state.SkipWithError(std::string(rules.status().message()).c_str());
    return;
  }
  monitord::RuleEngine engine(*rules);
  std::vector<cv1::Event> mix;
  for (int i = 0; i < 64; ++i) mix.push_back(MakeEvent(i));
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(engine.Process(mix[i++ % mix.size()]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RulesDefault);

constexpr char kRecordData[] =
    "{\"source\":\"capd\",\"sequence\":\"12345\",\"kind\":\"EVENT_KIND_ACCESS_DENIED\",\"principal\":"
    "{\"id\":\"uid:1000\"},\"message\":\"PERMISSION_DENIED: /secureos.capd.v1.Capd/Grant needs admin\"}";

void BM_AuditRecordAndHash(benchmark::State& state) {
  std::string prev(monitord::kGenesisHash);
  const absl::Time now = absl::Now();
  uint64_t seq = 1;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string line = monitord::FormatRecord(seq++, now, "event", prev, kRecordData);
    prev = monitord::Sha256Hex(line);
    bytes += static_cast<int64_t>(line.size());
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_AuditRecordAndHash);

}  // namespace
}  // namespace secureos
