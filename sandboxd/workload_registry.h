// The workloads sandboxd runs: their cgroups, launch, seccomp supervision, output,
// wall-clock limits, exit reasons and history.
//
// Contract:
// - Every launch happens on one long-lived launcher thread: PR_SET_PDEATHSIG fires when
//   the *thread* that created the child exits, so a one-shot workload must not be the
//   child of a gRPC worker thread that the pool may retire.
// - One monitor thread watches every workload's pidfd and output pipes and enforces
//   wall-clock limits. On exit: the exit status and rusage, the cgroup's OOM count and
//   peak memory, why it ended (exited, oom, cpu_limit, timeout, seccomp, killed), then
//   whatever is left in the cgroup is killed and the cgroup removed.
// - Violations reported by a workload's seccomp supervisor go into its stream, its
//   counters and sandboxd's event ring.
// - Exited workloads are remembered up to a configurable number, oldest forgotten first
//   (never one that is being streamed).
#ifndef SECUREOS_SANDBOXD_WORKLOAD_REGISTRY_H_
#define SECUREOS_SANDBOXD_WORKLOAD_REGISTRY_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/event_ring.h"
#include "common/fd.h"
#include "proto/sandboxd.pb.h"
#include "sandboxd/cgroup/cgroup_layout.h"
#include "sandboxd/task_thread.h"
#include "sandboxd/workload_plan.h"

namespace secureos::sandboxd {

class WorkloadRegistry {
 public:
  struct Options {
    CgroupLayout layout;
    std::string cgroup_parent;          // Relative, e.g. "secureos/sandboxd".
    std::function<size_t()> exited_kept;  // Asked each time one may be forgotten.
    EventRing* events = nullptr;
    // Where running long-lived workloads are recorded for the next run (a tmpfs in
    // deployment: they do not outlive a reboot). Empty: nothing is recorded.
    std::string state_path;
  };

  // Re-adopts the long-lived workloads a previous run recorded (those still running keep
  // running and are watched again; their exit status is then unknown, and their refused
  // syscalls fail with ENOSYS unreported: the seccomp listener died with that run).
  static absl::StatusOr<std::unique_ptr<WorkloadRegistry>> Open(Options options);
  // Kills the running one-shot workloads and removes their cgroups; long-lived ones keep
  // running, recorded for the next run.
  ~WorkloadRegistry();

  // Registers a validated workload (state CREATED); returns its id.
  std::string Create(WorkloadPlan plan, uid_t owner, const std::string& trace_id);
  // Registers a long-lived workload and makes its process, set up to just before its exec
  // (launcher.h Prepare): it has its pid, namespaces, cgroup and network from now on, and
  // runs when started. On failure nothing is registered. A created workload does not
  // outlive sandboxd.
  absl::StatusOr<std::string> CreatePrepared(WorkloadPlan plan, uid_t owner, const std::string& trace_id);
  // Registers an exec into running workload `target` (BuildExecPlan's plan; state CREATED),
  // to be started with Start: it joins the target's namespaces and cgroup instead of making
  // its own. NOT_FOUND or FAILED_PRECONDITION when the target is not running.
  absl::StatusOr<std::string> CreateExec(const std::string& target, WorkloadPlan plan, uid_t owner,
                                         const std::string& trace_id);
  // Makes its cgroup and launches it. On failure the workload is EXITED with the reason
  // in its detail, and the error is returned.
  absl::Status Start(const std::string& id);
  // Streams from the start: started, output, violations, exited. Returns when it exited
  // and everything was written, or the reader went away.
  absl::Status Follow(const std::string& id, const std::function<bool(const v1::RunEvent&)>& write,
                      const std::function<bool()>& cancelled);
  // Signals the whole workload (every process of its cgroup for SIGKILL). A created one that
  // never started ends at once (EXITED, reason killed, the signal recorded).
  absl::Status Kill(const std::string& id, int signal);
  // One workload, or all of them. A running one carries its pid, its cgroup's leaf
  // directories (cgroup_paths) and its usage read from the cgroup now (Cgroup::Stats(); a
  // field the host cannot tell is absent, and so is usage if the cgroup cannot be read).
  absl::StatusOr<v1::WorkloadInfo> Status(const std::string& id) const;
  std::vector<v1::WorkloadInfo> List() const;

 private:
  struct Workload;
  WorkloadRegistry(Options options, UniqueFd epoll, UniqueFd wake);
  void MonitorLoop();
  void HandleReady(uint64_t key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DrainOutput(Workload& w, int which) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnforceTimeouts() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int NextTimeoutMs() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reaps an exited workload; the slow cleanup is returned to run without the lock.
  std::function<void()> Finish(Workload& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void KillLocked(Workload& w, v1::ExitReason reason, int signal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Watch(Workload& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnViolation(const std::string& id, v1::Violation v);
  void ForgetOldExited() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::WorkloadInfo InfoLocked(const Workload& w) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Publish(const Workload& w, common::v1::EventKind kind, common::v1::Severity severity,
               std::string message, common::v1::WorkloadEvent details);
  // Start's launch: Release of a prepared workload, or Launch of the others.
  absl::Status Launch(Workload& w);
  absl::Status PrepareLaunch(Workload& w);
  // After either: the pid, pidfd, output and seccomp supervisor taken over.
  absl::Status Launched(Workload& w, absl::StatusOr<LaunchedWorkload> launched);
  // Kills and reaps a prepared workload's waiting process.
  void DiscardHeldLocked(Workload& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What an exec needs of its target at launch: the pidfd and the cgroup's procs files,
  // duplicated so that the target may end meanwhile.
  struct JoinTarget {
    UniqueFd pidfd;
    std::vector<UniqueFd> procs;
  };
  absl::StatusOr<JoinTarget> TargetOf(const Workload& exec) const;
  // The cgroup procs files the launch joins: its own new cgroup's, or an exec's target's.
  absl::StatusOr<std::vector<int>> CgroupFor(Workload& w, std::optional<JoinTarget>* target);
  // The BeforeStart of a launch: the cgroup, then the bridge when the plan has one.
  static BeforeStart JoinCgroupAndNetwork(Workload& w, std::vector<int> procs);
  // The previous run's long-lived workloads; returns the ids re-adopted.
  std::set<std::string> Readopt() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PersistLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  UniqueFd epoll_;
  UniqueFd wake_;
  TaskThread launcher_;
  std::thread monitor_;

  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  std::map<std::string, std::unique_ptr<Workload>> workloads_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Workload*> keys_ ABSL_GUARDED_BY(mu_);  // epoll key -> workload.
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<std::string> exited_order_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_WORKLOAD_REGISTRY_H_
