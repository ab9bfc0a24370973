// The processes capd spawned: their lifecycle, output, persistence and re-adoption.
//
// Contract:
// - Every running spawn is persisted (<runtime_dir>/spawns.textproto: pid + start time)
//   before its start is reported, so that a restarted capd re-adopts it. The file survives
//   capd's crash, not the machine's (rename, no fsync): the processes it describes do not
//   survive a reboot either, and the runtime directory is emptied at boot. A spawn whose pid is gone, or now belongs to another
//   process (different start time), is reported as exited with the note saying why.
// - One monitor thread watches every spawn through its pidfd (and its output pipes with
//   OUTPUT_MODE_STREAM). Exit codes and rusage are known for capd's own children; for
//   re-adopted ones (no longer capd's children) only the fact of the exit is.
// - Spawns are never killed because capd stops: they run in their own sessions.
// - capd is a subreaper (PR_SET_CHILD_SUBREAPER): descendants that a spawn leaves behind
//   (double-forking daemons) are re-parented to capd instead of init, and the monitor reaps
//   them when they exit without taking the exit status of a registered spawn.
// - Exited spawns are remembered (List, Watch) up to a fixed number, oldest forgotten first.
#ifndef SECUREOS_CAPD_SPAWN_REGISTRY_H_
#define SECUREOS_CAPD_SPAWN_REGISTRY_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/cap_set.h"
#include "capd/spawner.h"
#include "common/event_ring.h"
#include "common/fd.h"
#include "proto/capd.pb.h"

namespace secureos::capd {

class SpawnRegistry {
 public:
  // How many exited spawns to remember; asked each time one is forgotten (so a reloaded
  // configuration applies).
  using ExitedLimit = std::function<size_t()>;

  // Loads and re-adopts what the state directory records; starts the monitor thread.
  static absl::StatusOr<std::unique_ptr<SpawnRegistry>> Open(const std::string& runtime_dir,
                                                             EventRing* events,
                                                             ExitedLimit exited_limit);
  ~SpawnRegistry();

  // Brackets a Launch through Add: while a launch is pending, orphans are not reaped, so a
  // child that exits before it is registered keeps its exit status for Finish.
  void BeginLaunch();
  void EndLaunch();

  // Takes over a launched process; returns its spawn id.
  absl::StatusOr<std::string> Add(LaunchedProcess process, const SpawnPlan& plan);

  // Streams a spawn from the start: started, output so far and to come, exited. Returns
  // when it exited and everything was written, or the reader went away.
  absl::Status Follow(const std::string& id,
                      const std::function<bool(const v1::SpawnEvent&)>& write,
                      const std::function<bool()>& cancelled) const;

  absl::Status Signal(const std::string& id, int signal);
  std::vector<v1::SpawnInfo> List() const;
  std::optional<v1::SpawnInfo> FindByPid(pid_t pid) const;
  // Securebits capd set on `pid`, when it is a running spawn.
  std::optional<uint32_t> SecurebitsOf(pid_t pid) const;

  // Compares each running spawn's real sets with what it was given; newly drifted spawns
  // produce a CAPABILITY_DRIFT event. Returns every drifted running spawn.
  std::vector<v1::SpawnInfo> CheckDrift();
  // Marks the running spawns of `principal` drifted (their grant is gone); returns their ids.
  std::vector<std::string> MarkGrantRevoked(const std::string& principal, const std::string& why);

 private:
  struct Spawn;
  SpawnRegistry(std::string state_path, EventRing* events, ExitedLimit exited_limit,
                UniqueFd epoll, UniqueFd wake);
  absl::Status Readopt();
  void MonitorLoop();
  void ReapOrphans() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the oldest exited spawns beyond the retention limit (never a followed one).
  void ForgetOldExitedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleReady(uint64_t key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DrainOutput(Spawn& s, int which) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(Spawn& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Watch(Spawn& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PersistLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A numbered snapshot of the state file's content, built under the lock.
  struct StateSnapshot {
    uint64_t generation = 0;
    std::string text;
  };
  StateSnapshot SnapshotLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes a snapshot unless a newer one was written already, so that writers racing from
  // the request path and the monitor never put an older state over a newer one.
  absl::Status WriteSnapshot(const StateSnapshot& snapshot) const;
  v1::SpawnInfo InfoLocked(const Spawn& s) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishExit(const Spawn& s);

  const std::string state_path_;
  EventRing* const events_;
  const ExitedLimit exited_limit_;
  UniqueFd epoll_;
  UniqueFd wake_;
  std::thread monitor_;

  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  std::map<std::string, std::unique_ptr<Spawn>> spawns_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Spawn*> keys_ ABSL_GUARDED_BY(mu_);  // epoll key -> spawn.
  std::map<pid_t, Spawn*> running_ ABSL_GUARDED_BY(mu_);  // pid -> spawn not yet exited.
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int pending_launches_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::string> exited_order_ ABSL_GUARDED_BY(mu_);  // Oldest exit first.
  // An exit is recorded in memory and followers are told at once; the state file catches up
  // right after, off their path. A crash in between only makes a restarted capd find that
  // spawn's pid gone and report it as exited.
  bool state_dirty_ ABSL_GUARDED_BY(mu_) = false;
  mutable uint64_t state_generation_ ABSL_GUARDED_BY(mu_) = 0;
  mutable absl::Mutex write_mu_ ABSL_ACQUIRED_AFTER(mu_);
  mutable uint64_t written_generation_ ABSL_GUARDED_BY(write_mu_) = 0;
};

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_SPAWN_REGISTRY_H_
