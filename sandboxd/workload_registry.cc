#include "sandboxd/workload_registry.h"

#include <signal.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/atomic_file.h"
#include "common/child_watch.h"
#include "common/config_loader.h"
#include "common/log.h"
#include "common/proc_stat.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"
#include "sandboxd/cgroup/cgroup.h"
#include "sandboxd/seccomp/profile.h"
#include "sandboxd/seccomp/supervisor.h"

namespace secureos::sandboxd {
namespace {

constexpr size_t kMaxOutputBytes = 8 << 20;  // Kept per workload for its readers.

double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

std::string NewWorkloadId() {
  return absl::StrFormat("w-%012x", absl::Uniform<uint64_t>(absl::BitGen()) & 0xffffffffffffULL);
}

const char* ReasonName(v1::ExitReason r) {
  switch (r) {
    case v1::EXIT_REASON_OOM: return "oom";
    case v1::EXIT_REASON_CPU_LIMIT: return "cpu_limit";
    case v1::EXIT_REASON_TIMEOUT: return "timeout";
    case v1::EXIT_REASON_SECCOMP: return "seccomp";
    case v1::EXIT_REASON_KILLED: return "killed";
    default: return "exited";
  }
}

std::string SignalText(int sig) {
  const char* name = sigabbrev_np(sig);
  return name != nullptr ? absl::StrCat("SIG", name) : absl::StrCat(sig);
}

v1::Violation ToViolation(const SeccompSupervisor::Report& r) {
  v1::Violation v;
  v.set_pid(r.pid);
  v.set_syscall(r.syscall);
  v.set_number(r.nr);
  for (uint64_t a : r.args) v.add_args(a);
  v.set_action(r.action);
  v.set_rule(r.rule);
  return v;
}

// The kernel ends a process at its hard RLIMIT_CPU with SIGKILL; any other SIGKILL (the OOM
// killer aside) came from somewhere else. So a SIGKILL counts as the CPU limit only when
// the CPU time used reached that hard limit.
bool HitCpuLimit(const LaunchPlan& p, const rusage& ru) {
  for (const auto& [resource, lim] : p.rlimits) {
    if (resource == RLIMIT_CPU && lim.rlim_max != RLIM_INFINITY) {
      // Tick accounting may show slightly less than the limit the kernel enforced.
      return Seconds(ru.ru_utime) + Seconds(ru.ru_stime) + 0.1 >= static_cast<double>(lim.rlim_max);
    }
  }
  return false;
}

}  // namespace

struct WorkloadRegistry::Workload {
  std::string id;
  uid_t owner = 0;
  std::string trace_id;
  WorkloadPlan plan;
  v1::WorkloadState state = v1::WORKLOAD_STATE_CREATED;
  std::unique_ptr<Cgroup> cgroup;
  std::unique_ptr<SeccompSupervisor> supervisor;
  pid_t pid = -1;
  uint64_t start_time = 0;
  bool own_child = true;  // False when re-adopted: the exit status is then unknown.
  UniqueFd pidfd;
  UniqueFd out[3];  // [1] stdout, [2] stderr.
  uint64_t key = 0;
  absl::Time started;
  absl::Time deadline = absl::InfiniteFuture();
  v1::ExitReason kill_reason = v1::EXIT_REASON_UNSPECIFIED;  // Set when sandboxd kills it.
  std::vector<v1::RunEvent> history;
  size_t output_bytes = 0;
  uint32_t violations = 0;
  std::string last_violation;  // Syscall name.
  v1::Exited exit;
  int followers = 0;
  std::string joins;  // An exec: the workload whose namespaces and cgroup it joins.
  std::optional<HeldChild> held;  // Created with Prepare: set up, waiting for Start.
};

namespace {

std::string ExitDetail(const v1::Exited& e, const v1::SandboxSpec& spec, const std::string& last_syscall) {
  switch (e.reason()) {
    case v1::EXIT_REASON_OOM:
      return absl::StrCat("was killed by the OOM killer at its ",
                          spec.limits().memory_bytes() >> 20, " MiB memory limit");
    case v1::EXIT_REASON_CPU_LIMIT:
      return "hit its CPU time limit (RLIMIT_CPU)";
    case v1::EXIT_REASON_TIMEOUT:
      return absl::StrCat("was killed at its wall-clock limit of ", spec.timeout_ms(), " ms");
    case v1::EXIT_REASON_SECCOMP:
      if (last_syscall.empty()) {
        return "was killed by seccomp (SIGSYS): a syscall of a foreign architecture (int 0x80 or x32)";
      }
      return absl::StrCat("was killed by its seccomp profile (syscall ", last_syscall, ")");
    case v1::EXIT_REASON_KILLED:
      return "was killed on request";
    default:
      if (!e.has_code() && !e.has_signal()) {
        return "exited after sandboxd restarted; it was no longer sandboxd's child, so its "
               "exit status is unknown";
      }
      return e.has_code() ? absl::StrCat("exited with code ", e.code())
                          : absl::StrCat("was killed by ", SignalText(e.signal()));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkloadRegistry>> WorkloadRegistry::Open(Options options) {
  SECUREOS_ASSIGN_OR_RETURN(WatchSet watch, OpenWatchSet());
  std::unique_ptr<WorkloadRegistry> r(
      new WorkloadRegistry(std::move(options), std::move(watch.epoll), std::move(watch.wake)));
  absl::MutexLock lock(&r->mu_);
  const std::set<std::string> adopted = r->Readopt();
  for (const std::string& leaf : Cgroup::SweepStale(r->options_.layout, r->options_.cgroup_parent)) {
    if (adopted.count(leaf.substr(leaf.rfind('/') + 1)) != 0) continue;
    // Neither recorded nor empty: something runs there that this run knows nothing of.
    Log(LogLevel::kWarning, "an unknown workload cgroup still holds processes; left alone",
        {{"cgroup", leaf}});
  }
  return r;
}

std::set<std::string> WorkloadRegistry::Readopt() {
  std::set<std::string> adopted;
  if (options_.state_path.empty()) return adopted;
  v1::WorkloadsState state;
  absl::Status s = LoadConfigFile(options_.state_path, &state, nullptr);
  if (!s.ok()) {
    if (!absl::IsNotFound(s)) Log(LogLevel::kError, "unreadable workload state", {{"error", std::string(s.message())}});
    return adopted;
  }
  for (const v1::WorkloadRecord& rec : state.workloads()) {
    auto w = std::make_unique<Workload>();
    w->id = rec.id();
    w->owner = rec.owner_uid();
    w->trace_id = rec.trace_id();
    w->plan.spec = rec.spec();
    w->pid = rec.pid();
    w->start_time = rec.start_time();
    w->own_child = false;
    w->state = v1::WORKLOAD_STATE_RUNNING;
    w->started = absl::Now();
    v1::RunEvent started;
    started.mutable_started()->set_id(w->id);
    started.mutable_started()->set_pid(w->pid);
    w->history.push_back(started);
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
        Cgroup::Adopt(options_.layout, options_.cgroup_parent, w->id);
    if (cgroup.ok()) w->cgroup = std::move(*cgroup);
    absl::StatusOr<uint64_t> now_start = ReadStartTime(w->pid);
    absl::StatusOr<char> pstate = ReadState(w->pid);
    const bool alive = now_start.ok() && *now_start == w->start_time && pstate.ok() && *pstate != 'Z';
    if (alive) w->pidfd.Reset(static_cast<int>(::syscall(SYS_pidfd_open, w->pid, 0)));
    Workload& ref = *w;
    workloads_[w->id] = std::move(w);
    if (ref.pidfd.valid()) {
      Watch(ref);
      adopted.insert(ref.id);
      Log(LogLevel::kInfo, "re-adopted workload", {{"workload", ref.id}, {"pid", absl::StrCat(ref.pid)}});
      continue;
    }
    // It ended while sandboxd was down: report it, and remove what is left of it.
    ref.state = v1::WORKLOAD_STATE_EXITED;
    ref.exit.set_reason(v1::EXIT_REASON_EXITED);
    ref.exit.set_detail("exited while sandboxd was down; its exit status is unknown");
    v1::RunEvent ev;
    *ev.mutable_exited() = ref.exit;
    ref.history.push_back(ev);
    exited_order_.push_back(ref.id);
    if (ref.cgroup != nullptr) (void)ref.cgroup->KillAll();
    ref.cgroup.reset();
  }
  PersistLocked();
  return adopted;
}

void WorkloadRegistry::PersistLocked() const {
  if (options_.state_path.empty()) return;
  v1::WorkloadsState state;
  for (const auto& [id, w] : workloads_) {
    if (w->state != v1::WORKLOAD_STATE_RUNNING || w->plan.launch.die_with_parent || w->pid <= 0) continue;
    v1::WorkloadRecord* rec = state.add_workloads();
    rec->set_id(w->id);
    rec->set_owner_uid(w->owner);
    rec->set_trace_id(w->trace_id);
    rec->set_pid(w->pid);
    rec->set_start_time(w->start_time);
    *rec->mutable_spec() = w->plan.spec;
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(state, &text);
  // Crash-safe, not power-loss-safe: the processes it names do not survive a reboot.
  absl::Status s = WriteFileAtomically(options_.state_path, "# sandboxd workloads; written by sandboxd.\n" + text,
                                       0600, Durability::kProcessCrash);
  if (!s.ok()) Log(LogLevel::kError, "could not record workloads", {{"error", std::string(s.message())}});
}

WorkloadRegistry::WorkloadRegistry(Options options, UniqueFd epoll, UniqueFd wake)
    : options_(std::move(options)), epoll_(std::move(epoll)), wake_(std::move(wake)) {
  monitor_ = std::thread([this] { MonitorLoop(); });
}

WorkloadRegistry::~WorkloadRegistry() {
  std::vector<Workload*> running;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [id, w] : workloads_) {
      DiscardHeldLocked(*w);  // A created workload does not outlive sandboxd.
      if (w->state != v1::WORKLOAD_STATE_RUNNING || !w->pidfd.valid()) continue;
      if (!w->plan.launch.die_with_parent && w->pid > 0) {
        // Long-lived: it keeps running, recorded for the next run, which re-adopts it.
        if (w->cgroup != nullptr) w->cgroup->Release();
        continue;
      }
      KillLocked(*w, v1::EXIT_REASON_KILLED, SIGKILL);
      running.push_back(w.get());
    }
    PersistLocked();
  }
  Wake(wake_.get());
  monitor_.join();
  for (Workload* w : running) {
    siginfo_t info;
    // Until it is dead (not reaped: Finish reaps it and reads its rusage).
    RetryOnEintr([&] { return ::waitid(P_PIDFD, w->pidfd.get(), &info, WEXITED | WNOWAIT); });
    std::function<void()> cleanup;
    {
      absl::MutexLock lock(&mu_);
      cleanup = Finish(*w);
    }
    cleanup();
  }
  // The supervisors still running (long-lived workloads) stop here, before the workloads
  // they report into are destroyed, and without the lock their callbacks take.
  std::vector<std::unique_ptr<SeccompSupervisor>> supervisors;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, w] : workloads_) {
      if (w->supervisor != nullptr) supervisors.push_back(std::move(w->supervisor));
    }
  }
  supervisors.clear();
}

std::string WorkloadRegistry::Create(WorkloadPlan plan, uid_t owner, const std::string& trace_id) {
  auto w = std::make_unique<Workload>();
  w->id = NewWorkloadId();
  w->owner = owner;
  w->trace_id = trace_id;
  w->plan = std::move(plan);
  const std::string id = w->id;
  absl::MutexLock lock(&mu_);
  workloads_[id] = std::move(w);
  return id;
}

absl::StatusOr<WorkloadRegistry::JoinTarget> WorkloadRegistry::TargetOf(const Workload& exec) const {
  absl::MutexLock lock(&mu_);
  auto it = workloads_.find(exec.joins);
  if (it == workloads_.end() || it->second->state != v1::WORKLOAD_STATE_RUNNING ||
      !it->second->pidfd.valid() || it->second->cgroup == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("workload ", exec.joins, " is not running"));
  }
  JoinTarget t;
  t.pidfd.Reset(::fcntl(it->second->pidfd.get(), F_DUPFD_CLOEXEC, 0));
  if (!t.pidfd.valid()) return ErrnoToStatus(errno, "dup the workload's pidfd");
  for (int fd : it->second->cgroup->procs_fds()) {
    t.procs.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!t.procs.back().valid()) return ErrnoToStatus(errno, "dup the workload's cgroup");
  }
  return t;
}

absl::StatusOr<std::string> WorkloadRegistry::CreateExec(const std::string& target, WorkloadPlan plan,
                                                         uid_t owner, const std::string& trace_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = workloads_.find(target);
    if (it == workloads_.end()) return absl::NotFoundError(absl::StrCat("id: no workload ", target));
    if (it->second->state != v1::WORKLOAD_STATE_RUNNING || !it->second->pidfd.valid()) {
      return absl::FailedPreconditionError(absl::StrCat("workload ", target, " is not running"));
    }
  }
  const std::string id = Create(std::move(plan), owner, trace_id);
  absl::MutexLock lock(&mu_);
  workloads_[id]->joins = target;
  return id;
}

absl::StatusOr<std::string> WorkloadRegistry::CreatePrepared(WorkloadPlan plan, uid_t owner,
                                                             const std::string& trace_id) {
  const std::string id = Create(std::move(plan), owner, trace_id);
  Workload* w;
  {
    absl::MutexLock lock(&mu_);
    w = workloads_[id].get();
    w->state = v1::WORKLOAD_STATE_CREATED;
    ++w->followers;  // Not forgotten while it is set up.
  }
  absl::Status s = PrepareLaunch(*w);
  absl::MutexLock lock(&mu_);
  --w->followers;
  if (!s.ok()) {
    workloads_.erase(id);  // Nothing runs: the request failed, nothing is left to show.
    return s;
  }
  changed_.SignalAll();
  return id;
}

void WorkloadRegistry::DiscardHeldLocked(Workload& w) {
  if (!w.held.has_value()) return;
  ::syscall(SYS_pidfd_send_signal, w.held->workload.pidfd.get(), SIGKILL, nullptr, 0);
  RetryOnEintr([&] { return ::waitpid(w.held->workload.pid, nullptr, 0); });
  w.held.reset();
}

absl::StatusOr<std::vector<int>> WorkloadRegistry::CgroupFor(Workload& w, std::optional<JoinTarget>* target) {
  std::vector<int> procs;
  if (w.joins.empty()) {
    SECUREOS_ASSIGN_OR_RETURN(
        w.cgroup, Cgroup::Create(options_.layout, options_.cgroup_parent, w.id, w.plan.cgroup));
    procs.assign(w.cgroup->procs_fds().begin(), w.cgroup->procs_fds().end());
  } else {
    SECUREOS_ASSIGN_OR_RETURN(*target, TargetOf(w));
    w.plan.launch.join_pidfd = (*target)->pidfd.get();
    for (const UniqueFd& fd : (*target)->procs) procs.push_back(fd.get());
  }
  return procs;
}

BeforeStart WorkloadRegistry::JoinCgroupAndNetwork(Workload& w, std::vector<int> procs) {
  return [&w, procs = std::move(procs)](pid_t pid) -> absl::Status {
    const std::string text = absl::StrCat(pid);
    for (int fd : procs) {
      if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        return ErrnoToStatus(errno, "join the workload's cgroup");
      }
    }
    if (w.plan.bridge.has_value()) return AttachToBridge(pid, *w.plan.bridge, HostInterfaceName(w.id));
    return absl::OkStatus();
  };
}

absl::Status WorkloadRegistry::PrepareLaunch(Workload& w) {
  std::optional<JoinTarget> target;
  SECUREOS_ASSIGN_OR_RETURN(std::vector<int> procs, CgroupFor(w, &target));
  absl::StatusOr<HeldChild> held;
  launcher_.Run([&] { held = sandboxd::Prepare(w.plan.launch, JoinCgroupAndNetwork(w, std::move(procs))); });
  if (!held.ok()) {
    w.cgroup.reset();
    return held.status();
  }
  absl::MutexLock lock(&mu_);
  w.pid = held->workload.pid;
  w.held = std::move(*held);
  return absl::OkStatus();
}

absl::Status WorkloadRegistry::Launch(Workload& w) {
  std::optional<HeldChild> held;
  {
    absl::MutexLock lock(&mu_);
    held.swap(w.held);
  }
  absl::StatusOr<LaunchedWorkload> launched;
  if (held.has_value()) {
    launcher_.Run([&] { launched = sandboxd::Release(w.plan.launch, std::move(*held)); });
  } else {
    std::optional<JoinTarget> target;
    SECUREOS_ASSIGN_OR_RETURN(std::vector<int> procs, CgroupFor(w, &target));
    // Always from the launcher thread: see the header.
    launcher_.Run([&] { launched = sandboxd::Launch(w.plan.launch, JoinCgroupAndNetwork(w, std::move(procs))); });
  }
  return Launched(w, std::move(launched));
}

absl::Status WorkloadRegistry::Launched(Workload& w, absl::StatusOr<LaunchedWorkload> launched) {
  if (!launched.ok()) return launched.status();
  w.pid = launched->pid;
  w.pidfd = std::move(launched->pidfd);
  w.out[1] = std::move(launched->stdout_read);
  w.out[2] = std::move(launched->stderr_read);
  if (launched->seccomp_listener.valid()) {
    const std::string id = w.id;
    absl::StatusOr<std::unique_ptr<SeccompSupervisor>> supervisor = SeccompSupervisor::Start(
        std::move(launched->seccomp_listener), w.plan.filter.get(),
        [this, id](const SeccompSupervisor::Report& r) { OnViolation(id, ToViolation(r)); },
        [this, id] {
          absl::MutexLock lock(&mu_);
          auto it = workloads_.find(id);
          if (it != workloads_.end()) KillLocked(*it->second, v1::EXIT_REASON_SECCOMP, SIGKILL);
        });
    if (!supervisor.ok()) {
      // Fail closed: a workload whose refusals nobody answers must not run.
      ::syscall(SYS_pidfd_send_signal, w.pidfd.get(), SIGKILL, nullptr, 0);
      RetryOnEintr([&] { return ::waitpid(w.pid, nullptr, 0); });
      return supervisor.status();
    }
    w.supervisor = std::move(*supervisor);
  }
  return absl::OkStatus();
}

absl::Status WorkloadRegistry::Start(const std::string& id) {
  Workload* w;
  {
    absl::MutexLock lock(&mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return absl::NotFoundError(absl::StrCat("id: no workload ", id));
    w = it->second.get();
    if (w->state != v1::WORKLOAD_STATE_CREATED) {
      return absl::FailedPreconditionError(absl::StrCat("workload ", id, " was already started"));
    }
    w->state = v1::WORKLOAD_STATE_RUNNING;  // Claimed: a second Start fails above.
    ++w->followers;                          // Not forgotten while it is set up.
  }
  absl::Status s = Launch(*w);
  if (!s.ok()) w->cgroup.reset();  // Nothing runs in it: remove it now, without the lock.
  absl::MutexLock lock(&mu_);
  --w->followers;
  if (!s.ok()) {
    w->state = v1::WORKLOAD_STATE_EXITED;
    w->exit.set_reason(v1::EXIT_REASON_UNSPECIFIED);
    w->exit.set_detail(absl::StrCat("did not start: ", s.message()));
    v1::RunEvent ev;
    *ev.mutable_exited() = w->exit;
    w->history.push_back(ev);
    exited_order_.push_back(w->id);
    changed_.SignalAll();
    return s;
  }
  w->started = absl::Now();
  if (w->plan.timeout != absl::InfiniteDuration()) w->deadline = w->started + w->plan.timeout;
  // Read after exec: an exited workload keeps its /proc entry until it is reaped.
  absl::StatusOr<uint64_t> start_time = ReadStartTime(w->pid);
  w->start_time = start_time.ok() ? *start_time : 0;
  PersistLocked();
  v1::RunEvent ev;
  ev.mutable_started()->set_id(w->id);
  ev.mutable_started()->set_pid(w->pid);
  w->history.push_back(ev);
  Watch(*w);
  common::v1::WorkloadEvent d;
  d.set_pid(w->pid);
  Publish(*w, common::v1::EVENT_KIND_WORKLOAD_STARTED, common::v1::SEVERITY_INFO,
          absl::StrCat("workload ", w->id, " started as pid ", w->pid), d);
  changed_.SignalAll();
  Wake(wake_.get());  // The monitor may need a new deadline.
  return absl::OkStatus();
}

void WorkloadRegistry::Watch(Workload& w) {
  w.key = next_key_++;
  keys_[w.key] = &w;
  WatchChild(epoll_.get(), w.key, w.pidfd.get(), w.out, w.id);
}

void WorkloadRegistry::MonitorLoop() {
  epoll_event events[32];
  for (;;) {
    int timeout;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      timeout = NextTimeoutMs();
    }
    const int n = ::epoll_wait(epoll_.get(), events, 32, timeout);
    if (n < 0 && errno != EINTR) {
      Log(LogLevel::kError, "epoll_wait failed", {{"errno", strerror(errno)}});
      return;
    }
    std::vector<std::function<void()>> cleanups;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == 0) {
          uint64_t drained;
          (void)!::read(wake_.get(), &drained, sizeof(drained));
          continue;
        }
        auto it = keys_.find(KeyOf(events[i].data.u64));
        if (it == keys_.end()) continue;
        if (WhichOf(events[i].data.u64) == 0) {
          cleanups.push_back(Finish(*it->second));
        } else {
          DrainOutput(*it->second, WhichOf(events[i].data.u64));
        }
      }
      EnforceTimeouts();
      ForgetOldExited();
      changed_.SignalAll();
    }
    for (auto& c : cleanups) c();
  }
}

int WorkloadRegistry::NextTimeoutMs() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [key, w] : keys_) next = std::min(next, w->deadline);
  if (next == absl::InfiniteFuture()) return 1000;
  const int64_t ms = absl::ToInt64Milliseconds(next - absl::Now()) + 1;
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
}

void WorkloadRegistry::EnforceTimeouts() {
  const absl::Time now = absl::Now();
  for (auto& [key, w] : keys_) {
    if (w->deadline <= now && w->kill_reason == v1::EXIT_REASON_UNSPECIFIED) {
      KillLocked(*w, v1::EXIT_REASON_TIMEOUT, SIGKILL);
    }
  }
}

void WorkloadRegistry::DrainOutput(Workload& w, int which) {
  DrainChildOutput(epoll_.get(), &w.out[which], &w.output_bytes, kMaxOutputBytes,
                   [&](const char* data, size_t size) {
                     v1::RunEvent ev;
                     ev.mutable_output()->set_fd(which);
                     ev.mutable_output()->set_data(data, size);
                     w.history.push_back(std::move(ev));
                   });
}

void WorkloadRegistry::KillLocked(Workload& w, v1::ExitReason reason, int signal) {
  if (w.state != v1::WORKLOAD_STATE_RUNNING || !w.pidfd.valid()) return;
  if (w.kill_reason == v1::EXIT_REASON_UNSPECIFIED) w.kill_reason = reason;
  // Through the pidfd: a recycled pid never receives it. With a pid namespace the kernel
  // kills the rest of the tree with its init; without one, Finish empties the cgroup.
  ::syscall(SYS_pidfd_send_signal, w.pidfd.get(), signal, nullptr, 0);
}

std::function<void()> WorkloadRegistry::Finish(Workload& w) {
  for (int which : {1, 2}) DrainOutput(w, which);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, w.pidfd.get(), nullptr);
  int status = 0;
  rusage ru{};
  if (w.own_child) {
    const pid_t r = RetryOnEintr([&] { return ::wait4(w.pid, &status, WNOHANG, &ru); });
    if (r != w.pid) return [] {};  // Not yet reapable (spurious wake-up); keep watching.
  }
  for (int which : {1, 2}) {
    if (w.out[which].valid()) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, w.out[which].get(), nullptr);
    w.out[which].Reset();
  }
  keys_.erase(w.key);
  w.pidfd.Reset();
  v1::Exited& e = w.exit;
  if (w.own_child && WIFEXITED(status)) e.set_code(WEXITSTATUS(status));
  if (w.own_child && WIFSIGNALED(status)) e.set_signal(WTERMSIG(status));
  e.set_user_seconds(Seconds(ru.ru_utime));
  e.set_system_seconds(Seconds(ru.ru_stime));
  e.set_max_rss_kib(ru.ru_maxrss);
  e.set_wall_seconds(absl::ToDoubleSeconds(absl::Now() - w.started));
  std::optional<CgroupStats> stats;
  if (w.cgroup != nullptr) {
    absl::StatusOr<CgroupStats> s = w.cgroup->Stats();
    if (s.ok()) stats = *s;
  }
  if (stats && stats->memory_peak_bytes) e.set_max_rss_kib(*stats->memory_peak_bytes / 1024);
  v1::ExitReason reason = w.kill_reason;
  if (reason == v1::EXIT_REASON_UNSPECIFIED) {
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (sig == SIGKILL && stats && stats->oom_kills.value_or(0) > 0) {
      reason = v1::EXIT_REASON_OOM;
    } else if (sig == SIGSYS) {
      // The kernel's own kill: a foreign-architecture syscall (int 0x80, x32).
      reason = v1::EXIT_REASON_SECCOMP;
    } else if (sig == SIGXCPU || (sig == SIGKILL && HitCpuLimit(w.plan.launch, ru))) {
      reason = v1::EXIT_REASON_CPU_LIMIT;
    } else {
      reason = v1::EXIT_REASON_EXITED;
    }
  }
  e.set_reason(reason);
  w.state = v1::WORKLOAD_STATE_EXITED;
  exited_order_.push_back(w.id);
  PersistLocked();
  // The slow part (the rest of the tree, the cgroup, the supervisor's thread) runs without
  // the lock; the exited record is published once the supervisor has said all it saw.
  std::shared_ptr<Cgroup> cgroup(std::move(w.cgroup));
  std::shared_ptr<SeccompSupervisor> supervisor(std::move(w.supervisor));
  const std::string id = w.id;
  return [this, id, cgroup, supervisor]() mutable {
    // Readers hear of the exit first; what is left of the tree (only without a pid
    // namespace) and the cgroup go right after.
    auto remove_cgroup = absl::MakeCleanup([&] {
      if (!cgroup) return;
      absl::Status k = cgroup->KillAll();
      absl::Status d = k.ok() ? cgroup->Destroy() : k;
      if (!d.ok()) Log(LogLevel::kError, "workload cgroup cleanup", {{"workload", id}, {"error", std::string(d.message())}});
    });
    std::set<int> used;
    if (supervisor) used = supervisor->used();
    supervisor.reset();  // Joins its thread: every violation is in the history now.
    absl::MutexLock lock(&mu_);  // Released before remove_cgroup runs (declared later).
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return;
    Workload& w = *it->second;
    if (w.plan.spec.learn()) *w.exit.mutable_learned_profile() = LearnedProfile(used);
    w.exit.set_detail(ExitDetail(w.exit, w.plan.spec, w.last_violation));
    v1::RunEvent ev;
    *ev.mutable_exited() = w.exit;
    w.history.push_back(ev);
    common::v1::WorkloadEvent d;
    d.set_pid(w.pid);
    d.set_exit_code(w.exit.has_code() ? w.exit.code() : -1);
    d.set_signal(w.exit.has_signal() ? w.exit.signal() : 0);
    d.set_reason(ReasonName(w.exit.reason()));
    Publish(w, common::v1::EVENT_KIND_WORKLOAD_EXITED,
            w.exit.reason() == v1::EXIT_REASON_EXITED ? common::v1::SEVERITY_INFO
                                                      : common::v1::SEVERITY_WARNING,
            absl::StrCat("workload ", w.id, " ", w.exit.detail()), d);
    changed_.SignalAll();
  };
}

void WorkloadRegistry::OnViolation(const std::string& id, v1::Violation v) {
  absl::MutexLock lock(&mu_);
  auto it = workloads_.find(id);
  if (it == workloads_.end()) return;
  Workload& w = *it->second;
  v.set_workload_id(w.id);
  v.set_workload_name(w.plan.spec.name());
  ++w.violations;
  w.last_violation = v.syscall();
  common::v1::WorkloadEvent d;
  d.set_pid(v.pid());
  d.set_syscall(v.syscall());
  for (uint64_t a : v.args()) d.add_args(a);
  d.set_action(v.action());
  d.set_rule(v.rule());
  Publish(w, common::v1::EVENT_KIND_SECCOMP_VIOLATION, common::v1::SEVERITY_WARNING,
          absl::StrCat("workload ", w.id, " syscall ", v.syscall(), ": ", v.action(), " (",
                       v.rule(), ")"),
          d);
  v1::RunEvent ev;
  *ev.mutable_violation() = std::move(v);
  w.history.push_back(std::move(ev));
  changed_.SignalAll();
}

void WorkloadRegistry::Publish(const Workload& w, common::v1::EventKind kind,
                               common::v1::Severity severity, std::string message,
                               common::v1::WorkloadEvent details) {
  if (options_.events == nullptr) return;
  common::v1::Event e;
  e.set_kind(kind);
  e.set_severity(severity);
  e.set_message(std::move(message));
  e.set_trace_id(w.trace_id);
  e.mutable_principal()->set_id(absl::StrCat("uid:", w.owner));
  details.set_workload_id(w.id);
  details.set_name(w.plan.spec.name());
  *e.mutable_workload() = std::move(details);
  options_.events->Publish(std::move(e));
}

void WorkloadRegistry::ForgetOldExited() {
  ForgetOldest<Workload>(&exited_order_, options_.exited_kept ? options_.exited_kept() : 256,
                         &workloads_, [](const Workload& w) { return w.followers > 0; });
}

absl::Status WorkloadRegistry::Follow(const std::string& id,
                                      const std::function<bool(const v1::RunEvent&)>& write,
                                      const std::function<bool()>& cancelled) {
  absl::Status s = FollowHistory<Workload, v1::RunEvent>(
      &mu_, &changed_, workloads_, id,
      [](const Workload& w) { return !w.history.empty() && w.history.back().has_exited(); },
      write, cancelled);
  if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("id: no workload ", id));
  return s;
}

absl::Status WorkloadRegistry::Kill(const std::string& id, int signal) {
  absl::MutexLock lock(&mu_);
  auto it = workloads_.find(id);
  if (it == workloads_.end()) return absl::NotFoundError(absl::StrCat("id: no workload ", id));
  Workload& w = *it->second;
  if (w.state == v1::WORKLOAD_STATE_CREATED) {
    // Never started (an OCI kill of a created container): it ends here, killed, with the
    // process that waited for its start, and its cgroup.
    DiscardHeldLocked(w);
    w.cgroup.reset();
    w.state = v1::WORKLOAD_STATE_EXITED;
    w.exit.set_signal(signal);
    w.exit.set_reason(v1::EXIT_REASON_KILLED);
    w.exit.set_detail(absl::StrCat("killed by signal ", signal, " before it started"));
    w.plan.launch.stdio = Stdio{};  // Its output files: nobody will write them now.
    v1::RunEvent ev;
    *ev.mutable_exited() = w.exit;
    w.history.push_back(ev);
    exited_order_.push_back(w.id);
    changed_.SignalAll();
    return absl::OkStatus();
  }
  if (w.state != v1::WORKLOAD_STATE_RUNNING || !w.pidfd.valid()) {
    return absl::FailedPreconditionError(absl::StrCat("workload ", id, " is not running"));
  }
  if (signal == SIGKILL) {
    KillLocked(w, v1::EXIT_REASON_KILLED, SIGKILL);
  } else if (::syscall(SYS_pidfd_send_signal, w.pidfd.get(), signal, nullptr, 0) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("signal workload ", id));
  }
  return absl::OkStatus();
}

v1::WorkloadInfo WorkloadRegistry::InfoLocked(const Workload& w) const {
  v1::WorkloadInfo info;
  info.set_id(w.id);
  info.set_name(w.plan.spec.name());
  info.set_state(w.state);
  // Launched and watched (Start sets the key under the lock once Launch, which runs without
  // it, has filled in the pid and the cgroup); Finish takes the cgroup away under the lock.
  const bool launched = w.state == v1::WORKLOAD_STATE_RUNNING && w.key != 0;
  if (launched || (w.state == v1::WORKLOAD_STATE_CREATED && w.held.has_value())) info.set_pid(w.pid);
  for (const auto& a : w.plan.spec.argv()) info.add_argv(a);
  if (!w.history.empty() && w.history.back().has_exited()) *info.mutable_exited() = w.exit;
  info.set_violations(w.violations);
  *info.mutable_spec() = w.plan.spec;
  info.set_owner_uid(w.owner);
  if (launched && w.cgroup != nullptr) {
    // A few small cgroupfs reads under the lock: the cleanup that destroys a cgroup runs
    // without the lock, but only after Finish took it out of the workload, under the lock.
    for (const std::string& path : w.cgroup->paths()) info.add_cgroup_paths(path);
    absl::StatusOr<CgroupStats> stats = w.cgroup->Stats();
    if (stats.ok()) {
      v1::Usage* u = info.mutable_usage();
      if (stats->memory_working_set_bytes) u->set_memory_working_set_bytes(*stats->memory_working_set_bytes);
      if (stats->memory_peak_bytes) u->set_memory_peak_bytes(*stats->memory_peak_bytes);
      if (stats->cpu_usage_ns) u->set_cpu_usage_ns(*stats->cpu_usage_ns);
      if (stats->pids_current) u->set_pids_current(*stats->pids_current);
      if (stats->oom_kills) u->set_oom_kills(*stats->oom_kills);
    }
  }
  return info;
}

absl::StatusOr<v1::WorkloadInfo> WorkloadRegistry::Status(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = workloads_.find(id);
  if (it == workloads_.end()) return absl::NotFoundError(absl::StrCat("id: no workload ", id));
  return InfoLocked(*it->second);
}

std::vector<v1::WorkloadInfo> WorkloadRegistry::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::WorkloadInfo> running, ended;
  for (const auto& [id, w] : workloads_) {
    (w->state == v1::WORKLOAD_STATE_EXITED ? ended : running).push_back(InfoLocked(*w));
  }
  running.insert(running.end(), ended.rbegin(), ended.rend());
  return running;
}

}  // namespace secureos::sandboxd
