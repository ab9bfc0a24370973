// The supervisor: every service's state, its runs, restarts, readiness, watchdog, stops,
// dependencies, verification, and svcd's runtime record of what runs.
//
// A service's life (v1::ServiceState): INACTIVE -> (WAITING for what it requires) ->
// STARTING (launched; waiting for READY=1 with READINESS_NOTIFY) -> RUNNING -> on exit
// RESTARTING (backoff) or FAILED or INACTIVE; STOPPING while a requested stop runs.
//
// Runs are launched through capd (levels 1-2) or sandboxd (3-5) (launcher.h); svcd only
// prepares what it owns: the service's log FIFO (log_collector.h), notify socket
// (notify_hub.h) and, for levels 1-2, its cgroup in every hierarchy (made with the
// definition's limits before the launch, removed after the exit). Every change of a run is
// written to the state file (RunState, atomically) before it is reported, so a restarted svcd
// re-adopts each running service through its launcher and the services are not disturbed.
//
// Events (EVENT_KIND_SERVICE_*): started, ready, exited, backoff, restarted, start-limit,
// stopped, verification mismatch, start failed, definition refused / changed.
//
// Thread-safe. Calls into launchers (gRPC) are never made under the lock.
#ifndef SECUREOS_SVCD_SERVICE_MANAGER_H_
#define SECUREOS_SVCD_SERVICE_MANAGER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/event_ring.h"
#include "proto/svcd.pb.h"
#include "sandboxd/cgroup/cgroup.h"
#include "sandboxd/cgroup/cgroup_layout.h"
#include "svcd/definition.h"
#include "svcd/dependency_graph.h"
#include "svcd/launcher.h"
#include "svcd/log_collector.h"
#include "svcd/notify_hub.h"
#include "svcd/restart_policy.h"
#include "svcd/service_spec.h"
#include "svcd/verifier.h"

namespace secureos::svcd {

class ServiceManager {
 public:
  struct Options {
    std::string services_dir;  // Absolute; "<name>.service" files.
    std::string state_path;    // Absolute; RunState in text format.
    std::string notify_dir;    // Absolute; the notify sockets.
    std::string cgroup_parent; // Relative, under every hierarchy (levels 1-2).
    sandboxd::CgroupLayout layout;
    DefinitionPolicy policy;
    absl::Duration verify_delay = absl::Milliseconds(200);
    std::unique_ptr<Launcher> capd;
    std::unique_ptr<Launcher> sandboxd;
    std::unique_ptr<ProcessInspector> inspector;
    std::unique_ptr<LogCollector> logs;
    EventRing* events = nullptr;   // Outlives the manager.
  };

  // Loads every definition (a bad file is kept as a refused definition, with its error),
  // re-adopts what the state file says runs, and starts the timer thread. Call
  // StartEnabled() after.
  static absl::StatusOr<std::unique_ptr<ServiceManager>> Open(Options options);
  // Stops supervising. Running services keep running (their cgroups are left as they are)
  // for the next svcd to re-adopt.
  ~ServiceManager();

  // Starts every enabled service that is not running, in dependency order (on a thread of
  // its own; returns at once).
  void StartEnabled();

  // The API. Errors name the field or the service; NOT_FOUND for an unknown name.
  absl::StatusOr<v1::ServiceStatus> Add(const v1::ServiceDefinition& def);
  absl::StatusOr<v1::ServiceStatus> Update(const v1::ServiceDefinition& def);
  absl::Status Remove(const std::string& name);
  // Starts `name` and what it requires, in order, each one ready before the next; returns
  // when `name` runs (and is ready) or failed.
  absl::StatusOr<v1::ServiceStatus> Start(const std::string& name);
  // Stops what requires `name`, then `name`; returns when they have ended.
  absl::StatusOr<v1::ServiceStatus> Stop(const std::string& name);
  absl::StatusOr<v1::ServiceStatus> Restart(const std::string& name);
  absl::StatusOr<v1::ServiceStatus> ResetFailed(const std::string& name);
  absl::StatusOr<v1::ServiceStatus> Status(const std::string& name);
  std::vector<v1::ServiceStatus> List();
  absl::StatusOr<v1::ExplainResponse> Explain(const std::string& name);
  // Re-reads the services directory: changed files replace definitions (a running service
  // keeps its run's), a bad file keeps the old definition and records why, a deleted file
  // removes a service that is not running.
  void Rescan();

  LogCollector& logs() { return *options_.logs; }

 private:
  struct Unit;
  struct Action;  // A launcher call decided under the lock, made outside it.

  explicit ServiceManager(Options options);

  // Definitions.
  // CompileDefinition (which checks the level's plan too), then what needs the other
  // services: the name is free unless `replacing`, and no requires/after cycle.
  absl::StatusOr<ServiceSpec> Compile(const v1::ServiceDefinition& def, bool replacing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  DependencyGraph GraphLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckNoCycle(const v1::ServiceDefinition& def) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string DefinitionPath(const std::string& name) const;

  // Runs.
  absl::Status StartOne(const std::string& name, bool automatic);
  absl::Status WaitUntilUp(const std::string& name, absl::Duration timeout);
  void StopOne(const std::string& name);
  void OnExit(const std::string& name, uint64_t run, const RunOutcome& outcome);
  void HandleExit(Unit& u, const RunOutcome& outcome, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnNotify(const NotifyMessage& m);
  bool SentByService(const Unit& u, pid_t pid) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Adopt(const v1::RunRecord& record);
  Launcher& LauncherFor(const ServiceSpec& spec) const;

  // Timers: restarts due, ready timeouts, watchdogs, stop timeouts, verification.
  void TimerLoop();
  void Run(std::vector<Action> actions);
  void VerifyRun(const std::string& name, uint64_t run);

  // Reporting.
  void SetState(Unit& u, v1::ServiceState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::ServiceStatus StatusOf(const Unit& u) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Publish(const Unit& u, common::v1::EventKind kind, common::v1::Severity severity,
               const std::string& message, common::v1::ServiceEvent details) const;
  void SaveState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Options options_;
  std::unique_ptr<NotifyHub> notify_;

  mutable absl::Mutex mu_;
  absl::CondVar changed_;  // Any state change, and the timer thread's wake-up.
  std::map<std::string, std::unique_ptr<Unit>> units_ ABSL_GUARDED_BY(mu_);
  uint64_t next_run_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timer_;
  std::thread boot_;
};

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_SERVICE_MANAGER_H_
