#include "capd/spawn_registry.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "capd/proc_status.h"
#include "common/atomic_file.h"
#include "common/child_watch.h"
#include "common/config_loader.h"
#include "common/log.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"

namespace secureos::capd {
namespace {

constexpr size_t kMaxOutputBytes = 8 << 20;  // Kept per spawn for followers.

double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

std::string NewSpawnId() {
  return absl::StrFormat("s-%012x", absl::Uniform<uint64_t>(absl::BitGen()) & 0xffffffffffffULL);
}

}  // namespace

struct SpawnRegistry::Spawn {
  std::string id;
  std::string principal;
  std::vector<std::string> argv;
  pid_t pid = -1;
  uint64_t start_time = 0;
  CapSet caps;
  uid_t uid = 0;
  uint32_t securebits = 0;
  std::string trace_id;
  bool own_child = true;  // False when re-adopted: exit status is then unknown.
  uint64_t key = 0;
  UniqueFd pidfd;
  UniqueFd out[3];  // [1] stdout, [2] stderr.
  std::vector<v1::SpawnEvent> history;  // started, output..., exited.
  size_t output_bytes = 0;
  bool exited = false;
  v1::Exited exit;
  std::string drift;  // Non-empty when drifted.
  int followers = 0;  // Follow calls streaming it; a followed spawn is never forgotten.
};

absl::StatusOr<std::unique_ptr<SpawnRegistry>> SpawnRegistry::Open(const std::string& runtime_dir,
                                                                   EventRing* events,
                                                                   ExitedLimit exited_limit) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(runtime_dir, 0700));
  SECUREOS_ASSIGN_OR_RETURN(WatchSet watch, OpenWatchSet());
  std::unique_ptr<SpawnRegistry> r(new SpawnRegistry(runtime_dir + "/spawns.textproto", events,
                                                     std::move(exited_limit), std::move(watch.epoll),
                                                     std::move(watch.wake)));
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return ErrnoToStatus(errno, "prctl(PR_SET_CHILD_SUBREAPER)");
  }
  SECUREOS_RETURN_IF_ERROR(r->Readopt());
  r->monitor_ = std::thread([p = r.get()] { p->MonitorLoop(); });
  return r;
}

SpawnRegistry::SpawnRegistry(std::string state_path, EventRing* events,
                             ExitedLimit exited_limit, UniqueFd epoll, UniqueFd wake)
    : state_path_(std::move(state_path)),
      events_(events),
      exited_limit_(std::move(exited_limit)),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)) {}

SpawnRegistry::~SpawnRegistry() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake(wake_.get());
  if (monitor_.joinable()) monitor_.join();
}

void SpawnRegistry::Watch(Spawn& s) {
  s.key = next_key_++;
  keys_[s.key] = &s;
  WatchChild(epoll_.get(), s.key, s.pidfd.get(), s.out, s.id);
}

absl::Status SpawnRegistry::Readopt() {
  v1::SpawnsState state;
  absl::Status s = LoadConfigFile(state_path_, &state, nullptr);
  if (absl::IsNotFound(s)) return absl::OkStatus();
  SECUREOS_RETURN_IF_ERROR(s);
  std::vector<const Spawn*> gone;
  absl::MutexLock lock(&mu_);
  for (const v1::SpawnRecord& rec : state.spawns()) {
    auto sp = std::make_unique<Spawn>();
    sp->id = rec.id();
    sp->principal = rec.principal();
    sp->argv.assign(rec.argv().begin(), rec.argv().end());
    sp->pid = rec.pid();
    sp->start_time = rec.start_time();
    sp->caps = CapSet::FromMask(rec.capabilities());
    sp->uid = rec.uid();
    sp->securebits = rec.securebits();
    sp->trace_id = rec.trace_id();
    sp->own_child = false;
    v1::SpawnEvent started;
    started.mutable_started()->set_id(sp->id);
    started.mutable_started()->set_pid(sp->pid);
    started.mutable_started()->set_start_time(sp->start_time);
    sp->history.push_back(started);
    absl::StatusOr<uint64_t> now_start = ReadStartTime(sp->pid);
    absl::StatusOr<char> state = ReadState(sp->pid);
    // A zombie exited while capd was down; its new parent has not reaped it yet.
    const bool alive = now_start.ok() && *now_start == sp->start_time && state.ok() && *state != 'Z';
    if (alive) sp->pidfd.Reset(static_cast<int>(::syscall(SYS_pidfd_open, sp->pid, 0)));
    Spawn& ref = *sp;
    spawns_[sp->id] = std::move(sp);
    running_[ref.pid] = &ref;
    if (ref.pidfd.valid()) {
      Watch(ref);
      Log(LogLevel::kInfo, "re-adopted spawn", {{"spawn", ref.id}, {"pid", absl::StrCat(ref.pid)}});
    } else {
      ref.exit.set_note(now_start.ok() && *now_start != ref.start_time
                            ? "exited while capd was down; its pid now belongs to another process"
                            : "exited while capd was down; exit status unknown");
      Finish(ref);
    }
  }
  ForgetOldExitedLocked();
  return PersistLocked();
}

absl::StatusOr<std::string> SpawnRegistry::Add(LaunchedProcess process, const SpawnPlan& plan) {
  auto sp = std::make_unique<Spawn>();
  sp->id = NewSpawnId();
  sp->principal = plan.principal;
  sp->argv = plan.argv;
  sp->pid = process.pid;
  sp->start_time = process.start_time;
  sp->caps = plan.caps;
  sp->uid = plan.uid;
  sp->securebits = plan.securebits;
  sp->trace_id = plan.trace_id;
  sp->pidfd = std::move(process.pidfd);
  sp->out[1] = std::move(process.stdout_read);
  sp->out[2] = std::move(process.stderr_read);
  v1::SpawnEvent started;
  started.mutable_started()->set_id(sp->id);
  started.mutable_started()->set_pid(sp->pid);
  started.mutable_started()->set_start_time(sp->start_time);
  sp->history.push_back(started);
  const std::string id = sp->id;
  absl::MutexLock lock(&mu_);
  Spawn& ref = *sp;
  spawns_[id] = std::move(sp);
  running_[ref.pid] = &ref;
  Watch(ref);
  absl::Status persisted = PersistLocked();
  if (!persisted.ok()) {
    // The process runs and is watched; it just would not be re-adopted after a restart.
    Log(LogLevel::kError, "could not persist spawns", {{"error", std::string(persisted.message())}});
  }
  changed_.SignalAll();
  return id;
}

void SpawnRegistry::MonitorLoop() {
  epoll_event events[32];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 32, 1000);
    if (n < 0 && errno != EINTR) {
      Log(LogLevel::kError, "epoll_wait failed", {{"errno", strerror(errno)}});
      return;
    }
    std::optional<StateSnapshot> state;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 != 0) HandleReady(events[i].data.u64);
      }
      ReapOrphans();
      ForgetOldExitedLocked();
      if (n > 0) changed_.SignalAll();
      if (state_dirty_) state = SnapshotLocked();
      state_dirty_ = false;
    }
    if (state.has_value()) {
      absl::Status s = WriteSnapshot(*state);
      if (!s.ok()) Log(LogLevel::kError, "could not persist spawns", {{"error", std::string(s.message())}});
    }
  }
}

void SpawnRegistry::ForgetOldExitedLocked() {
  // Exited spawns are forgotten so that a capd that runs for months holds bounded memory.
  ForgetOldest<Spawn>(&exited_order_, exited_limit_(), &spawns_,
                      [](const Spawn& s) { return s.followers > 0; });
}

void SpawnRegistry::BeginLaunch() {
  absl::MutexLock lock(&mu_);
  ++pending_launches_;
}

void SpawnRegistry::EndLaunch() {
  absl::MutexLock lock(&mu_);
  --pending_launches_;
}

void SpawnRegistry::ReapOrphans() {
  if (pending_launches_ > 0) return;
  for (;;) {
    siginfo_t info{};
    // Peek first: the exit status of a registered spawn belongs to Finish.
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    auto spawn = running_.find(info.si_pid);
    if (spawn != running_.end() && spawn->second->own_child) {
      Finish(*spawn->second);  // Its pidfd event is on its way; take it now.
    }
    // Reap it if Finish did not (an orphan of some spawn, re-parented to capd).
    ::waitpid(info.si_pid, nullptr, WNOHANG);
  }
}

void SpawnRegistry::HandleReady(uint64_t key) {
  auto it = keys_.find(KeyOf(key));
  if (it == keys_.end()) return;
  Spawn& s = *it->second;
  const int which = WhichOf(key);
  if (which == 0) {
    Finish(s);
  } else {
    DrainOutput(s, which);
  }
}

void SpawnRegistry::DrainOutput(Spawn& s, int which) {
  DrainChildOutput(epoll_.get(), &s.out[which], &s.output_bytes, kMaxOutputBytes,
                   [&](const char* data, size_t size) {
                     v1::SpawnEvent ev;
                     ev.mutable_output()->set_fd(which);
                     ev.mutable_output()->set_data(data, size);
                     s.history.push_back(std::move(ev));
                   });
}

void SpawnRegistry::Finish(Spawn& s) {
  if (s.exited) return;
  for (int which : {1, 2}) DrainOutput(s, which);
  if (s.pidfd.valid()) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s.pidfd.get(), nullptr);
    int status = 0;
    rusage ru{};
    pid_t r = s.own_child ? ::wait4(s.pid, &status, WNOHANG, &ru) : -1;
    if (r == s.pid) {
      if (WIFEXITED(status)) s.exit.set_code(WEXITSTATUS(status));
      if (WIFSIGNALED(status)) s.exit.set_signal(WTERMSIG(status));
      s.exit.set_user_seconds(Seconds(ru.ru_utime));
      s.exit.set_system_seconds(Seconds(ru.ru_stime));
      s.exit.set_max_rss_kib(ru.ru_maxrss);
    } else if (s.exit.note().empty()) {
      s.exit.set_note("exited after capd restarted; it was no longer capd's child, so its exit "
                      "status is unknown");
    }
    s.pidfd.Reset();
  }
  for (int which : {1, 2}) {
    if (s.out[which].valid()) {
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s.out[which].get(), nullptr);
      s.out[which].Reset();
    }
  }
  keys_.erase(s.key);
  if (auto it = running_.find(s.pid); it != running_.end() && it->second == &s) running_.erase(it);
  s.exited = true;
  exited_order_.push_back(s.id);
  v1::SpawnEvent ev;
  *ev.mutable_exited() = s.exit;
  s.history.push_back(ev);
  PublishExit(s);
  state_dirty_ = true;
  changed_.SignalAll();
}

void SpawnRegistry::PublishExit(const Spawn& s) {
  common::v1::Event event;
  event.set_kind(common::v1::EVENT_KIND_SPAWN_EXITED);
  event.set_severity(common::v1::SEVERITY_INFO);
  event.set_trace_id(s.trace_id);
  event.mutable_principal()->set_id(s.principal);
  auto* d = event.mutable_capability();
  d->set_principal(s.principal);
  d->set_spawn_id(s.id);
  d->set_pid(s.pid);
  d->set_capabilities(s.caps.ToString());
  d->set_exit_code(s.exit.has_code() ? s.exit.code() : -1);
  d->set_signal(s.exit.has_signal() ? s.exit.signal() : 0);
  d->set_reason(s.exit.note());
  event.set_message(absl::StrCat("spawn ", s.id, " (pid ", s.pid, ") exited",
                                 s.exit.has_code() ? absl::StrCat(" with code ", s.exit.code()) : "",
                                 s.exit.has_signal() ? absl::StrCat(" by signal ", s.exit.signal()) : ""));
  events_->Publish(std::move(event));
}

absl::Status SpawnRegistry::PersistLocked() const { return WriteSnapshot(SnapshotLocked()); }

absl::Status SpawnRegistry::WriteSnapshot(const StateSnapshot& snapshot) const {
  absl::MutexLock lock(&write_mu_);
  if (snapshot.generation <= written_generation_) return absl::OkStatus();
  SECUREOS_RETURN_IF_ERROR(WriteFileAtomically(state_path_, snapshot.text, 0600,
                                                Durability::kProcessCrash));
  written_generation_ = snapshot.generation;
  return absl::OkStatus();
}

SpawnRegistry::StateSnapshot SpawnRegistry::SnapshotLocked() const {
  v1::SpawnsState state;
  for (const auto& [pid, s] : running_) {
    v1::SpawnRecord* rec = state.add_spawns();
    rec->set_id(s->id);
    rec->set_principal(s->principal);
    for (const auto& a : s->argv) rec->add_argv(a);
    rec->set_pid(s->pid);
    rec->set_start_time(s->start_time);
    rec->set_capabilities(s->caps.mask());
    rec->set_uid(s->uid);
    rec->set_securebits(s->securebits);
    rec->set_trace_id(s->trace_id);
  }
  StateSnapshot snapshot;
  snapshot.generation = ++state_generation_;
  google::protobuf::TextFormat::PrintToString(state, &snapshot.text);
  snapshot.text.insert(0, "# capd spawns; written by capd.\n");
  return snapshot;
}

absl::Status SpawnRegistry::Follow(const std::string& id,
                                   const std::function<bool(const v1::SpawnEvent&)>& write,
                                   const std::function<bool()>& cancelled) const {
  absl::Status s = FollowHistory<Spawn, v1::SpawnEvent>(
      &mu_, &changed_, spawns_, id, [](const Spawn& sp) { return sp.exited; }, write, cancelled);
  if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("id: no spawn ", id));
  return s;
}

absl::Status SpawnRegistry::Signal(const std::string& id, int signal) {
  absl::MutexLock lock(&mu_);
  auto it = spawns_.find(id);
  if (it == spawns_.end()) return absl::NotFoundError(absl::StrCat("id: no spawn ", id));
  Spawn& s = *it->second;
  if (s.exited || !s.pidfd.valid()) {
    return absl::FailedPreconditionError(absl::StrCat("spawn ", id, " has exited"));
  }
  // Through the pidfd: a recycled pid can never receive it.
  if (::syscall(SYS_pidfd_send_signal, s.pidfd.get(), signal, nullptr, 0) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("signal spawn ", id));
  }
  return absl::OkStatus();
}

v1::SpawnInfo SpawnRegistry::InfoLocked(const Spawn& s) const {
  v1::SpawnInfo info;
  info.set_id(s.id);
  info.set_principal(s.principal);
  for (const auto& a : s.argv) info.add_argv(a);
  info.set_pid(s.pid);
  info.set_start_time(s.start_time);
  info.set_state(s.exited ? v1::SPAWN_STATE_EXITED : v1::SPAWN_STATE_RUNNING);
  if (s.exited) *info.mutable_exited() = s.exit;
  for (const auto& n : s.caps.Names()) info.mutable_capabilities()->add_names(n);
  info.mutable_capabilities()->set_hex(s.caps.Hex());
  info.set_drifted(!s.drift.empty());
  info.set_drift(s.drift);
  info.set_uid(s.uid);
  return info;
}

std::vector<v1::SpawnInfo> SpawnRegistry::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SpawnInfo> running, exited;
  for (const auto& [id, s] : spawns_) (s->exited ? exited : running).push_back(InfoLocked(*s));
  running.insert(running.end(), exited.begin(), exited.end());
  return running;
}

std::optional<v1::SpawnInfo> SpawnRegistry::FindByPid(pid_t pid) const {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(pid);
  if (it == running_.end()) return std::nullopt;
  return InfoLocked(*it->second);
}

std::optional<uint32_t> SpawnRegistry::SecurebitsOf(pid_t pid) const {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(pid);
  if (it == running_.end()) return std::nullopt;
  return it->second->securebits;
}

namespace {

std::string DescribeDrift(const ProcStatus& st, const CapSet& given) {
  std::vector<std::string> diffs;
  auto compare = [&](const char* set, const CapSet& real) {
    if (real == given) return;
    CapSet extra = real.Minus(given), missing = given.Minus(real);
    std::string d = absl::StrCat(set, ":");
    if (!extra.empty()) absl::StrAppend(&d, " holds ", extra.ToString(), " beyond its grant");
    if (!missing.empty()) absl::StrAppend(&d, " lacks declared ", missing.ToString());
    diffs.push_back(d);
  };
  compare("effective", st.effective);
  compare("permitted", st.permitted);
  compare("inheritable", st.inheritable);
  compare("ambient", st.ambient);
  compare("bounding", st.bounding);
  if (!st.no_new_privs) diffs.push_back("no_new_privs is off");
  return absl::StrJoin(diffs, "; ");
}

}  // namespace

std::vector<v1::SpawnInfo> SpawnRegistry::CheckDrift() {
  std::vector<common::v1::Event> to_publish;
  std::vector<v1::SpawnInfo> drifted;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [pid, sp] : running_) {
      Spawn& s = *sp;
      absl::StatusOr<ProcStatus> st = ReadProcStatus(s.pid);
      if (!st.ok() || st->start_time != s.start_time) continue;  // Exiting; the monitor reports it.
      std::string drift = DescribeDrift(*st, s.caps);
      if (!drift.empty() && drift != s.drift) {
        common::v1::Event e;
        e.set_kind(common::v1::EVENT_KIND_CAPABILITY_DRIFT);
        e.set_severity(common::v1::SEVERITY_CRITICAL);
        e.set_trace_id(s.trace_id);
        e.mutable_principal()->set_id(s.principal);
        e.set_message(absl::StrCat("spawn ", s.id, " (pid ", s.pid, ") drifted: ", drift));
        auto* d = e.mutable_capability();
        d->set_principal(s.principal);
        d->set_spawn_id(s.id);
        d->set_pid(s.pid);
        d->set_capabilities(s.caps.ToString());
        d->set_reason(drift);
        to_publish.push_back(std::move(e));
      }
      if (!drift.empty()) s.drift = drift;
      if (!s.drift.empty()) drifted.push_back(InfoLocked(s));
    }
  }
  for (auto& e : to_publish) events_->Publish(std::move(e));
  return drifted;
}

std::vector<std::string> SpawnRegistry::MarkGrantRevoked(const std::string& principal,
                                                         const std::string& why) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (auto& [pid, s] : running_) {
    if (s->principal != principal) continue;
    s->drift = why;
    ids.push_back(s->id);
  }
  return ids;
}

}  // namespace secureos::capd
