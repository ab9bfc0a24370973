#include "svcd/service_manager.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/atomic_file.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "svcd/dependency_graph.h"
#include "svcd/explain.h"
#include "svcd/launch_plan.h"
#include "svcd/level_policy.h"

namespace secureos::svcd {

using common::v1::EventKind;
using common::v1::ServiceEvent;
using common::v1::Severity;
using google::protobuf::util::TimeUtil;

namespace {

constexpr absl::Duration kAdoptRetryFor = absl::Seconds(10);
constexpr absl::Duration kStopGrace = absl::Seconds(10);  // Beyond SIGKILL, for the exit to arrive.
constexpr char kSuffix[] = ".service";

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}
absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

std::string StateName(v1::ServiceState s) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::ServiceState_Name(s), "SERVICE_STATE_"));
}

// How svcd names a run's end: the launcher's reason, unless svcd itself ended it.
std::string ReasonOf(const RunOutcome& o, const std::string& forced, bool stop_requested) {
  if (!forced.empty()) return forced;
  if (stop_requested && (o.reason == "exited" || o.reason == "killed")) return "stopped";
  return o.reason.empty() ? "unknown" : o.reason;
}

std::string Describe(const RunOutcome& o, const std::string& reason) {
  std::string how = o.has_code                ? absl::StrCat("exited with code ", o.code)
                    : o.signal != 0           ? absl::StrCat("killed by SIG", sigabbrev_np(o.signal) ? sigabbrev_np(o.signal) : "?")
                                              : "ended (how is unknown)";
  if (reason == "watchdog") absl::StrAppend(&how, " after it missed its watchdog");
  if (reason == "timeout") absl::StrAppend(&how, " after it was not ready in time");
  if (reason == "oom") absl::StrAppend(&how, " by the OOM killer at its memory limit");
  if (!o.detail.empty()) absl::StrAppend(&how, " (", o.detail, ")");
  return how;
}

// requires + after restricted to `among`, in an order where each comes after its edges.
std::vector<std::string> StartOrder(const DependencyGraph& graph, const std::set<std::string>& among) {
  std::vector<std::string> order;
  std::set<std::string> done;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    if (!done.insert(n).second) return;
    auto it = graph.find(n);
    if (it != graph.end()) {
      for (const auto* edges : {&it->second.requires_, &it->second.after}) {
        for (const std::string& d : *edges) {
          if (among.count(d)) visit(d);
        }
      }
    }
    order.push_back(n);
  };
  for (const std::string& n : among) visit(n);
  return order;
}

DependencyEdges EdgesOf(const v1::ServiceDefinition& d) {
  return DependencyEdges{{d.requires().begin(), d.requires().end()}, {d.after().begin(), d.after().end()}};
}

}  // namespace

struct ServiceManager::Unit {
  std::string name;
  std::shared_ptr<const ServiceSpec> spec;  // In force; null while only a bad file exists.
  std::string definition_error;
  v1::ServiceState state = v1::SERVICE_STATE_INACTIVE;
  absl::Time since = absl::Now();
  std::string result;
  std::unique_ptr<StartLimiter> limiter;
  uint32_t restarts = 0;
  uint32_t consecutive = 0;
  v1::ExitInfo last_exit;
  v1::Verification verification;
  absl::Time next_start = absl::InfiniteFuture();  // RESTARTING.

  // The current run; run == 0: none.
  uint64_t run = 0;
  std::shared_ptr<const ServiceSpec> run_spec;
  bool launched = false;                 // The launcher gave a handle.
  std::optional<RunOutcome> early_exit;  // An end reported before the handle.
  RunHandle handle;
  std::unique_ptr<sandboxd::Cgroup> cgroup;  // Levels 1-2.
  std::string cgroup_leaf;                   // Its name under cgroup_parent.
  absl::Time started;
  bool ready = false;
  bool stop_requested = false;
  std::string forced;  // "watchdog" or "timeout": svcd ended the run.
  absl::Time ready_deadline = absl::InfiniteFuture();
  absl::Time watchdog_deadline = absl::InfiniteFuture();
  absl::Time kill_deadline = absl::InfiniteFuture();
  absl::Time verify_at = absl::InfiniteFuture();

  void ResetLimiter() {
    limiter = spec ? std::make_unique<StartLimiter>(spec->start_burst, spec->start_interval)
                   : std::make_unique<StartLimiter>(1, absl::ZeroDuration());
  }
  std::string backend_id() const {
    if (run == 0 || !launched) return "";
    return absl::StrCat(Sandboxed(run_spec->level()) ? "sandboxd:" : "capd:", handle.id);
  }
};

struct ServiceManager::Action {
  enum Kind { kSignal, kStart, kVerify, kRelease } kind;
  std::string name;
  uint64_t run = 0;
  Launcher* launcher = nullptr;
  std::string id;
  int signal = 0;
  std::unique_ptr<sandboxd::Cgroup> cgroup;  // kRelease: killed, removed, outside the lock.

  static Action Start(std::string name) { return Action{kStart, std::move(name), 0, nullptr, "", 0, nullptr}; }
  static Action Verify(std::string name, uint64_t run) {
    return Action{kVerify, std::move(name), run, nullptr, "", 0, nullptr};
  }
  static Action Signal(std::string name, Launcher* launcher, std::string id, int signal) {
    return Action{kSignal, std::move(name), 0, launcher, std::move(id), signal, nullptr};
  }
  static Action Release(std::string name, std::unique_ptr<sandboxd::Cgroup> cgroup) {
    return Action{kRelease, std::move(name), 0, nullptr, "", 0, std::move(cgroup)};
  }
};

ServiceManager::ServiceManager(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ServiceManager>> ServiceManager::Open(Options options) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(options.services_dir, 0755));
  std::unique_ptr<ServiceManager> m(new ServiceManager(std::move(options)));
  SECUREOS_ASSIGN_OR_RETURN(
      m->notify_, NotifyHub::Start(m->options_.notify_dir,
                                   [raw = m.get()](const NotifyMessage& msg) { raw->OnNotify(msg); }));
  m->Rescan();
  m->timer_ = std::thread([raw = m.get()] { raw->TimerLoop(); });
  v1::RunState state;
  absl::StatusOr<std::string> text = ReadFile(m->options_.state_path);
  if (text.ok() && !google::protobuf::TextFormat::ParseFromString(*text, &state)) {
    Log(LogLevel::kError, "state file unreadable; runs are not re-adopted", {{"path", m->options_.state_path}});
  }
  for (const v1::RunRecord& r : state.services()) m->Adopt(r);
  // Cgroups of runs that ended while no svcd watched (empty ones are removed).
  for (const std::string& busy : sandboxd::Cgroup::SweepStale(m->options_.layout, m->options_.cgroup_parent)) {
    bool adopted = false;
    {
      absl::MutexLock lock(&m->mu_);
      for (const auto& [n, u] : m->units_) {
        adopted = adopted || (!u->cgroup_leaf.empty() && absl::EndsWith(busy, "/" + u->cgroup_leaf));
      }
    }
    if (!adopted) Log(LogLevel::kWarning, "a service cgroup of no known run still holds processes", {{"cgroup", busy}});
  }
  {
    absl::MutexLock lock(&m->mu_);
    m->SaveState();
  }
  return m;
}

ServiceManager::~ServiceManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  if (boot_.joinable()) boot_.join();
  timer_.join();
  // Followers stop without reporting: the services keep running for the next svcd.
  options_.capd.reset();
  options_.sandboxd.reset();
  notify_.reset();
  absl::MutexLock lock(&mu_);
  for (auto& [name, u] : units_) {
    if (u->cgroup != nullptr) u->cgroup->Release();
  }
}

// ---- Definitions ----

std::string ServiceManager::DefinitionPath(const std::string& name) const {
  return absl::StrCat(options_.services_dir, "/", name, kSuffix);
}

DependencyGraph ServiceManager::GraphLocked() const {
  DependencyGraph graph;
  for (const auto& [name, u] : units_) {
    if (u->spec != nullptr) graph[name] = EdgesOf(u->spec->def);
  }
  return graph;
}

absl::Status ServiceManager::CheckNoCycle(const v1::ServiceDefinition& def) const {
  DependencyGraph graph = GraphLocked();
  graph[def.name()] = EdgesOf(def);
  if (std::optional<std::vector<std::string>> cycle = FindCycle(graph)) {
    return absl::InvalidArgumentError(
        absl::StrCat("requires: a cycle through requires/after: ", absl::StrJoin(*cycle, " -> ")));
  }
  return absl::OkStatus();
}

absl::StatusOr<ServiceSpec> ServiceManager::Compile(const v1::ServiceDefinition& def, bool replacing) {
  if (!replacing && units_.count(def.name())) {
    return absl::AlreadyExistsError(absl::StrCat("name: service \"", def.name(), "\" exists (UpdateService replaces it)"));
  }
  SECUREOS_ASSIGN_OR_RETURN(ServiceSpec spec, CompileDefinition(def, options_.policy));
  SECUREOS_RETURN_IF_ERROR(CheckNoCycle(def));
  return spec;
}

void ServiceManager::Rescan() {
  std::set<std::string> on_disk;
  if (DIR* dir = ::opendir(options_.services_dir.c_str())) {
    while (dirent* e = ::readdir(dir)) {
      absl::string_view n = e->d_name;
      if (absl::ConsumeSuffix(&n, kSuffix) && !n.empty()) on_disk.insert(std::string(n));
    }
    ::closedir(dir);
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& name : on_disk) {
    Unit* u = units_.count(name) ? units_[name].get() : nullptr;
    absl::StatusOr<ServiceSpec> loaded = LoadDefinitionFile(DefinitionPath(name), options_.policy);
    if (loaded.ok()) {
      if (absl::Status cycle = CheckNoCycle(loaded->def); !cycle.ok()) loaded = cycle;
    }
    if (u == nullptr) {
      auto fresh = std::make_unique<Unit>();
      fresh->name = name;
      u = fresh.get();
      units_[name] = std::move(fresh);
    }
    if (!loaded.ok()) {
      u->definition_error = std::string(loaded.status().message());
      if (u->limiter == nullptr) u->ResetLimiter();
      ServiceEvent d;
      d.set_detail(u->definition_error);
      Publish(*u, common::v1::EVENT_KIND_SERVICE_DEFINITION_REFUSED, common::v1::SEVERITY_WARNING,
              absl::StrCat("definition of ", name, " refused",
                           u->spec ? " (the previous one stays): " : ": ", u->definition_error),
              d);
      continue;
    }
    u->definition_error.clear();
    if (u->spec != nullptr && google::protobuf::util::MessageDifferencer::Equals(u->spec->def, loaded->def)) continue;
    const bool is_new = u->spec == nullptr;
    u->spec = std::make_shared<const ServiceSpec>(std::move(*loaded));
    if (is_new || u->run == 0) u->ResetLimiter();
    Publish(*u, common::v1::EVENT_KIND_SERVICE_DEFINITION_CHANGED, common::v1::SEVERITY_INFO,
            absl::StrCat("definition of ", name, is_new ? " loaded" : " replaced"), {});
  }
  for (auto it = units_.begin(); it != units_.end();) {
    Unit& u = *it->second;
    if (on_disk.count(u.name)) {
      ++it;
    } else if (u.run != 0) {
      u.definition_error = "its file was removed; it runs until stopped";
      ++it;
    } else {
      Publish(u, common::v1::EVENT_KIND_SERVICE_DEFINITION_CHANGED, common::v1::SEVERITY_INFO,
              absl::StrCat("definition of ", u.name, " removed (its file is gone)"), {});
      it = units_.erase(it);
    }
  }
}

absl::StatusOr<v1::ServiceStatus> ServiceManager::Add(const v1::ServiceDefinition& def) {
  {
    absl::MutexLock lock(&mu_);
    SECUREOS_ASSIGN_OR_RETURN(ServiceSpec spec, Compile(def, false));
    std::string text;
    google::protobuf::TextFormat::PrintToString(def, &text);
    SECUREOS_RETURN_IF_ERROR(WriteFileAtomically(DefinitionPath(def.name()), text, 0644));
    auto u = std::make_unique<Unit>();
    u->name = def.name();
    u->spec = std::make_shared<const ServiceSpec>(std::move(spec));
    u->ResetLimiter();
    Publish(*u, common::v1::EVENT_KIND_SERVICE_DEFINITION_CHANGED, common::v1::SEVERITY_INFO,
            absl::StrCat("service ", def.name(), " added"), {});
    units_[def.name()] = std::move(u);
  }
  if (def.enabled()) (void)Start(def.name());  // A failed start shows in the status.
  return Status(def.name());
}

absl::StatusOr<v1::ServiceStatus> ServiceManager::Update(const v1::ServiceDefinition& def) {
  {
    absl::MutexLock lock(&mu_);
    // The definition is checked first: a bad one is INVALID_ARGUMENT whether or not the
    // service exists.
    SECUREOS_ASSIGN_OR_RETURN(ServiceSpec spec, Compile(def, true));
    auto it = units_.find(def.name());
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("name: no service \"", def.name(), "\""));
    std::string text;
    google::protobuf::TextFormat::PrintToString(def, &text);
    SECUREOS_RETURN_IF_ERROR(WriteFileAtomically(DefinitionPath(def.name()), text, 0644));
    Unit& u = *it->second;
    u.spec = std::make_shared<const ServiceSpec>(std::move(spec));
    u.definition_error.clear();
    if (u.run == 0) u.ResetLimiter();
    Publish(u, common::v1::EVENT_KIND_SERVICE_DEFINITION_CHANGED, common::v1::SEVERITY_INFO,
            absl::StrCat("service ", def.name(), " updated", u.run != 0 ? " (applies at its next start)" : ""), {});
  }
  return Status(def.name());
}

absl::Status ServiceManager::Remove(const std::string& name) {
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    Unit& u = *it->second;
    if (u.run != 0 || u.state == v1::SERVICE_STATE_RESTARTING) {
      return absl::FailedPreconditionError(
          absl::StrCat("service ", name, " is ", StateName(u.state), ": stop it first"));
    }
    if (::unlink(DefinitionPath(name).c_str()) != 0 && errno != ENOENT) {
      return ErrnoToStatus(errno, absl::StrCat("unlink ", DefinitionPath(name)));
    }
    Publish(u, common::v1::EVENT_KIND_SERVICE_DEFINITION_CHANGED, common::v1::SEVERITY_INFO,
            absl::StrCat("service ", name, " removed"), {});
    units_.erase(it);
  }
  notify_->Close(name);
  options_.logs->Close(name);
  return absl::OkStatus();
}

// ---- Starting ----

Launcher& ServiceManager::LauncherFor(const ServiceSpec& spec) const {
  return Sandboxed(spec.level()) ? *options_.sandboxd : *options_.capd;
}

absl::StatusOr<v1::ServiceStatus> ServiceManager::Start(const std::string& name) {
  DependencyGraph graph;
  {
    absl::MutexLock lock(&mu_);
    if (!units_.count(name)) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    graph = GraphLocked();
  }
  SECUREOS_ASSIGN_OR_RETURN(std::set<std::string> closure, RequiredClosure(graph, name));
  for (const std::string& dep : StartOrder(graph, closure)) {
    if (dep == name) break;
    absl::Status s = StartOne(dep, false);
    if (s.ok()) s = WaitUntilUp(dep, absl::Minutes(2));
    if (s.ok()) continue;
    absl::MutexLock lock(&mu_);
    Unit* u = units_.count(name) ? units_[name].get() : nullptr;
    if (u != nullptr && u->run == 0) {
      u->result = "dependency";
      SetState(*u, v1::SERVICE_STATE_FAILED);
      ServiceEvent d;
      d.set_detail(absl::StrCat("requires ", dep, ": ", s.message()));
      Publish(*u, common::v1::EVENT_KIND_SERVICE_START_FAILED, common::v1::SEVERITY_WARNING,
              absl::StrCat("service ", name, " not started: ", d.detail()), d);
    }
    return absl::FailedPreconditionError(absl::StrCat(name, " requires ", dep, ": ", s.message()));
  }
  SECUREOS_RETURN_IF_ERROR(StartOne(name, false));
  (void)WaitUntilUp(name, absl::Minutes(2));  // The status says how it went.
  return Status(name);
}

absl::Status ServiceManager::WaitUntilUp(const std::string& name, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  for (;;) {
    auto it = units_.find(name);
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("service ", name, " was removed"));
    const Unit& u = *it->second;
    if (u.state == v1::SERVICE_STATE_RUNNING) return absl::OkStatus();
    if (u.state != v1::SERVICE_STATE_STARTING && u.state != v1::SERVICE_STATE_WAITING) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, " is ", StateName(u.state),
          u.last_exit.reason().empty() ? "" : absl::StrCat(" (", u.last_exit.detail(), ")")));
    }
    if (stopping_) return absl::CancelledError("svcd is stopping");
    if (changed_.WaitWithDeadline(&mu_, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(name, " did not become ready in ", absl::FormatDuration(timeout)));
    }
  }
}

absl::Status ServiceManager::StartOne(const std::string& name, bool automatic) {
  std::shared_ptr<const ServiceSpec> spec;
  uint64_t run;
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    Unit& u = *it->second;
    if (u.run != 0) return absl::OkStatus();
    if (u.spec == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(name, ": no valid definition: ", u.definition_error));
    }
    if (automatic && u.state != v1::SERVICE_STATE_RESTARTING) return absl::OkStatus();  // Stopped meanwhile.
    const absl::Time now = absl::Now();
    if (!u.limiter->TryStart(now)) {
      u.next_start = absl::InfiniteFuture();
      u.result = "start-limit-hit";
      SetState(u, v1::SERVICE_STATE_FAILED);
      ServiceEvent d;
      d.set_detail(absl::StrCat(u.spec->start_burst, " starts within ", absl::FormatDuration(u.spec->start_interval)));
      Publish(u, common::v1::EVENT_KIND_SERVICE_START_LIMIT, common::v1::SEVERITY_WARNING,
              absl::StrCat("service ", name, " hit its start limit (", d.detail(),
                           "): failed until reset-failed"),
              d);
      changed_.SignalAll();
      return absl::FailedPreconditionError(absl::StrCat(name, ": start limit hit (", d.detail(),
                                                        "); `secctl svc reset-failed ", name, "`"));
    }
    run = u.run = next_run_++;
    u.run_spec = spec = u.spec;
    u.launched = false;
    u.early_exit.reset();
    u.ready = u.stop_requested = false;
    u.forced.clear();
    u.next_start = u.ready_deadline = u.watchdog_deadline = u.kill_deadline = u.verify_at = absl::InfiniteFuture();
    u.verification.Clear();
    if (automatic) {
      ++u.restarts;
    } else {
      u.restarts = u.consecutive = 0;
    }
    u.result.clear();
    SetState(u, v1::SERVICE_STATE_STARTING);
  }

  std::unique_ptr<sandboxd::Cgroup> cgroup;
  std::string leaf;
  absl::StatusOr<RunHandle> handle = [&]() -> absl::StatusOr<RunHandle> {
    LaunchContext ctx;
    SECUREOS_ASSIGN_OR_RETURN(ctx.log_path, options_.logs->Open(name));
    if (spec->def.readiness() == v1::READINESS_NOTIFY || spec->watchdog > absl::ZeroDuration()) {
      SECUREOS_ASSIGN_OR_RETURN(ctx.notify_socket, notify_->Open(name));
    }
    if (!Sandboxed(spec->level())) {
      const common::v1::ResourceLimits l = EffectiveLimits(spec->def);
      sandboxd::CgroupLimits limits;
      if (l.has_memory_bytes()) limits.memory_bytes = l.memory_bytes();
      if (l.has_cpu_millis()) limits.cpu_millis = l.cpu_millis();
      if (l.has_pids()) limits.pids = l.pids();
      leaf = absl::StrCat(name, ".", absl::ToUnixMicros(absl::Now()));
      absl::StatusOr<std::unique_ptr<sandboxd::Cgroup>> made =
          sandboxd::Cgroup::Create(options_.layout, options_.cgroup_parent, leaf, limits);
      if (!made.ok()) return Annotate(made.status(), "cgroup");
      cgroup = std::move(*made);
      ctx.cgroups = cgroup->paths();
    }
    ctx.trace_id = absl::StrCat("svcd-", name, "-", run);
    SECUREOS_ASSIGN_OR_RETURN(LaunchRequest request, PlanLaunch(*spec, ctx));
    return LauncherFor(*spec).Launch(request, [this, name, run](const RunOutcome& o) { OnExit(name, run, o); });
  }();

  std::vector<Action> actions;
  absl::Status result = handle.status();
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    Unit* u = it == units_.end() || it->second->run != run ? nullptr : it->second.get();
    if (u == nullptr) {
      // Removed meanwhile (cannot happen while a run exists); nothing to record.
    } else if (!handle.ok()) {
      u->run = 0;
      u->run_spec.reset();
      v1::ExitInfo& e = u->last_exit;
      e.Clear();
      e.set_reason("start-failed");
      e.set_detail(std::string(handle.status().message()));
      *e.mutable_time() = ToProto(absl::Now());
      e.set_failure(true);
      u->result = absl::StrCat("start: ", handle.status().message());
      SetState(*u, v1::SERVICE_STATE_FAILED);
      ServiceEvent d;
      d.set_detail(e.detail());
      Publish(*u, common::v1::EVENT_KIND_SERVICE_START_FAILED, common::v1::SEVERITY_WARNING,
              absl::StrCat("service ", name, " could not be launched: ", e.detail()), d);
    } else {
      u->launched = true;
      u->handle = *handle;
      u->cgroup = std::move(cgroup);
      u->cgroup_leaf = leaf;
      if (u->cgroup != nullptr) u->handle.cgroup_paths = u->cgroup->paths();
      u->started = absl::Now();
      Publish(*u, automatic ? common::v1::EVENT_KIND_SERVICE_RESTARTED : common::v1::EVENT_KIND_SERVICE_STARTED,
              common::v1::SEVERITY_INFO,
              absl::StrCat("service ", name, automatic ? " restarted" : " started", " as pid ", u->handle.pid,
                           " (", u->backend_id(), ")"),
              {});
      if (spec->def.readiness() == v1::READINESS_NOTIFY) {
        u->ready_deadline = u->started + spec->ready_timeout;
      } else {
        u->ready = true;
        SetState(*u, v1::SERVICE_STATE_RUNNING);
        u->verify_at = u->started + options_.verify_delay;
        Publish(*u, common::v1::EVENT_KIND_SERVICE_READY, common::v1::SEVERITY_INFO,
                absl::StrCat("service ", name, " is running"), {});
      }
      if (spec->watchdog > absl::ZeroDuration()) u->watchdog_deadline = u->started + spec->watchdog;
      if (u->early_exit.has_value()) {
        const RunOutcome early = *u->early_exit;
        HandleExit(*u, early, &actions);
      }
    }
    SaveState();
    changed_.SignalAll();
  }
  Run(std::move(actions));  // Also destroys `cgroup` when the launch failed.
  return result;
}

// ---- Ends of runs ----

void ServiceManager::OnExit(const std::string& name, uint64_t run, const RunOutcome& outcome) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    auto it = units_.find(name);
    if (it == units_.end() || it->second->run != run) return;
    Unit& u = *it->second;
    if (!u.launched) {
      u.early_exit = outcome;  // StartOne handles it once it has the handle.
      return;
    }
    HandleExit(u, outcome, &actions);
    SaveState();
    changed_.SignalAll();
  }
  Run(std::move(actions));
}

void ServiceManager::HandleExit(Unit& u, const RunOutcome& outcome, std::vector<Action>* actions) {
  const absl::Time now = absl::Now();
  const ServiceSpec& spec = *u.run_spec;
  RunOutcome o = outcome;
  if (u.cgroup != nullptr && o.signal == SIGKILL) {
    absl::StatusOr<sandboxd::CgroupStats> stats = u.cgroup->Stats();
    if (stats.ok() && stats->oom_kills.value_or(0) > 0) o.reason = "oom";
  }
  const std::string reason = ReasonOf(o, u.forced, u.stop_requested);
  RunEnd end;
  end.has_code = o.has_code;
  end.code = o.code;
  end.signal = o.signal;
  end.stop_requested = u.stop_requested;
  end.forced_failure = !u.forced.empty() || reason == "oom" || reason == "cpu_limit" || reason == "seccomp" ||
                       (!o.known && !u.stop_requested);
  v1::ExitInfo& e = u.last_exit;
  e.Clear();
  if (o.has_code) {
    e.set_code(o.code);
  } else if (o.signal != 0) {
    e.set_signal(o.signal);
  }
  e.set_reason(reason);
  e.set_detail(Describe(o, reason));
  *e.mutable_time() = ToProto(now);
  e.set_failure(IsFailure(end));

  ServiceEvent d;
  d.set_exit_code(o.has_code ? o.code : -1);
  d.set_signal(o.signal);
  d.set_reason(reason);
  d.set_failure(e.failure());
  Publish(u, common::v1::EVENT_KIND_SERVICE_EXITED,
          e.failure() ? common::v1::SEVERITY_WARNING : common::v1::SEVERITY_INFO,
          absl::StrCat("service ", u.name, " ", e.detail()), d);

  if (u.cgroup != nullptr) {
    actions->push_back(Action::Release(u.name, std::move(u.cgroup)));
    u.cgroup_leaf.clear();
  }
  if (now - u.started >= spec.backoff.ResetAfter()) u.consecutive = 0;
  u.run = 0;
  u.launched = false;
  u.handle = RunHandle{};
  u.ready_deadline = u.watchdog_deadline = u.kill_deadline = u.verify_at = absl::InfiniteFuture();
  if (u.stop_requested) {
    SetState(u, v1::SERVICE_STATE_INACTIVE);
    Publish(u, common::v1::EVENT_KIND_SERVICE_STOPPED, common::v1::SEVERITY_INFO,
            absl::StrCat("service ", u.name, " stopped"), {});
  } else if (ShouldRestart(spec.def.restart(), end)) {
    ++u.consecutive;
    const absl::Duration delay = spec.backoff.DelayFor(u.consecutive);
    u.next_start = now + delay;
    SetState(u, v1::SERVICE_STATE_RESTARTING);
    ServiceEvent b;
    b.set_delay_ms(absl::ToInt64Milliseconds(delay));
    Publish(u, common::v1::EVENT_KIND_SERVICE_BACKOFF, common::v1::SEVERITY_NOTICE,
            absl::StrCat("service ", u.name, " restarts in ", absl::FormatDuration(delay)), b);
  } else if (e.failure()) {
    u.result = reason == "exited" ? "exit-code" : reason == "killed" ? "signal" : reason;
    SetState(u, v1::SERVICE_STATE_FAILED);
  } else {
    SetState(u, v1::SERVICE_STATE_INACTIVE);
  }
  u.run_spec.reset();
}

// ---- Stopping ----

absl::StatusOr<v1::ServiceStatus> ServiceManager::Stop(const std::string& name) {
  DependencyGraph graph;
  {
    absl::MutexLock lock(&mu_);
    if (!units_.count(name)) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    graph = GraphLocked();  // RequiredBy follows requires edges only.
  }
  for (const std::string& dependent : RequiredBy(graph, name)) StopOne(dependent);
  StopOne(name);
  return Status(name);
}

void ServiceManager::StopOne(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto find = [&]() -> Unit* {
    auto it = units_.find(name);
    return it == units_.end() ? nullptr : it->second.get();
  };
  Unit* u = find();
  if (u == nullptr) return;
  if (u->run == 0) {
    if (u->state == v1::SERVICE_STATE_RESTARTING) {
      u->next_start = absl::InfiniteFuture();
      SetState(*u, v1::SERVICE_STATE_INACTIVE);
      Publish(*u, common::v1::EVENT_KIND_SERVICE_STOPPED, common::v1::SEVERITY_INFO,
              absl::StrCat("service ", name, " stopped (its restart is cancelled)"), {});
      changed_.SignalAll();
    }
    return;
  }
  const uint64_t run = u->run;
  const absl::Duration stop_timeout = u->run_spec->stop_timeout;
  // A launch in progress: its handle is needed to signal it.
  while ((u = find()) != nullptr && u->run == run && !u->launched && !stopping_) changed_.Wait(&mu_);
  if (u == nullptr || u->run != run || stopping_) return;
  if (!u->stop_requested) {
    u->stop_requested = true;
    u->kill_deadline = absl::Now() + u->run_spec->stop_timeout;
    SetState(*u, v1::SERVICE_STATE_STOPPING);
    Launcher* launcher = &LauncherFor(*u->run_spec);
    const std::string id = u->handle.id;
    const int sig = u->run_spec->stop_signal;
    changed_.SignalAll();
    mu_.Unlock();
    absl::Status s = launcher->Signal(id, sig);
    mu_.Lock();
    if (!s.ok()) Log(LogLevel::kWarning, "stop signal failed", {{"service", name}, {"error", s.ToString()}});
  }
  const absl::Time give_up = absl::Now() + stop_timeout + kStopGrace;
  while ((u = find()) != nullptr && u->run == run && !stopping_) {
    if (changed_.WaitWithDeadline(&mu_, give_up)) break;
  }
}

absl::StatusOr<v1::ServiceStatus> ServiceManager::Restart(const std::string& name) {
  SECUREOS_RETURN_IF_ERROR(Stop(name).status());
  return Start(name);
}

absl::StatusOr<v1::ServiceStatus> ServiceManager::ResetFailed(const std::string& name) {
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    Unit& u = *it->second;
    u.limiter->Reset();
    u.consecutive = 0;
    if (u.state == v1::SERVICE_STATE_FAILED) {
      u.result.clear();
      SetState(u, v1::SERVICE_STATE_INACTIVE);
    }
  }
  return Status(name);
}

// ---- Notifications and timers ----

bool ServiceManager::SentByService(const Unit& u, pid_t pid) const {
  if (pid <= 0) return false;
  if (pid == u.handle.pid) return true;
  absl::StatusOr<std::string> cgroups = ReadFile(absl::StrCat("/proc/", pid, "/cgroup"));
  if (!cgroups.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*cgroups, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3 || f[2].size() <= 1) continue;
    for (const std::string& dir : u.handle.cgroup_paths) {
      if (absl::EndsWith(dir, f[2])) return true;
    }
  }
  return false;
}

void ServiceManager::OnNotify(const NotifyMessage& m) {
  absl::MutexLock lock(&mu_);
  auto it = units_.find(m.service);
  if (it == units_.end()) return;
  Unit& u = *it->second;
  if (u.run == 0 || !u.launched) return;
  if (!SentByService(u, m.pid)) {
    Log(LogLevel::kWarning, "notification from outside the service ignored",
        {{"service", u.name}, {"pid", absl::StrCat(m.pid)}});
    return;
  }
  const absl::Time now = absl::Now();
  if (m.ready && u.state == v1::SERVICE_STATE_STARTING) {
    u.ready = true;
    u.ready_deadline = absl::InfiniteFuture();
    u.verify_at = now + options_.verify_delay;
    SetState(u, v1::SERVICE_STATE_RUNNING);
    Publish(u, common::v1::EVENT_KIND_SERVICE_READY, common::v1::SEVERITY_INFO,
            absl::StrCat("service ", u.name, " is ready"), {});
    SaveState();
  }
  if (m.watchdog && u.run_spec->watchdog > absl::ZeroDuration()) u.watchdog_deadline = now + u.run_spec->watchdog;
  if (m.watchdog_trigger) u.watchdog_deadline = now;
  changed_.SignalAll();
}

void ServiceManager::TimerLoop() {
  for (;;) {
    std::vector<Action> actions;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      const absl::Time now = absl::Now();
      absl::Time next = absl::InfiniteFuture();
      for (auto& [name, up] : units_) {
        Unit& u = *up;
        auto due = [&](absl::Time& at) {
          if (at <= now) {
            at = absl::InfiniteFuture();
            return true;
          }
          next = std::min(next, at);
          return false;
        };
        if (u.state == v1::SERVICE_STATE_RESTARTING && due(u.next_start)) {
          actions.push_back(Action::Start(name));
        }
        if (u.run == 0 || !u.launched) continue;
        Launcher* launcher = &LauncherFor(*u.run_spec);
        auto kill = [&](const char* why, int sig) {
          if (u.forced.empty() && !u.stop_requested) u.forced = why;
          if (u.kill_deadline == absl::InfiniteFuture()) u.kill_deadline = now + u.run_spec->stop_timeout;
          next = std::min(next, u.kill_deadline);
          actions.push_back(Action::Signal(name, launcher, u.handle.id, sig));
        };
        if (u.state == v1::SERVICE_STATE_STARTING && due(u.ready_deadline)) kill("timeout", u.run_spec->stop_signal);
        if (due(u.watchdog_deadline) && !u.stop_requested) kill("watchdog", SIGABRT);
        if (due(u.kill_deadline)) actions.push_back(Action::Signal(name, launcher, u.handle.id, SIGKILL));
        if (due(u.verify_at)) actions.push_back(Action::Verify(name, u.run));
      }
      if (actions.empty()) {
        changed_.WaitWithDeadline(&mu_, next);
        continue;
      }
    }
    Run(std::move(actions));
  }
}

void ServiceManager::Run(std::vector<Action> actions) {
  for (Action& a : actions) {
    switch (a.kind) {
      case Action::kSignal:
        if (absl::Status s = a.launcher->Signal(a.id, a.signal); !s.ok()) {
          Log(LogLevel::kWarning, "signal failed", {{"service", a.name}, {"error", s.ToString()}});
        }
        break;
      case Action::kStart:
        if (absl::Status s = StartOne(a.name, true); !s.ok()) {
          Log(LogLevel::kWarning, "restart failed", {{"service", a.name}, {"error", s.ToString()}});
        }
        break;
      case Action::kVerify:
        VerifyRun(a.name, a.run);
        break;
      case Action::kRelease:
        a.cgroup.reset();  // Kills what the run left behind, removes the cgroup.
        break;
    }
  }
}

void ServiceManager::VerifyRun(const std::string& name, uint64_t run) {
  pid_t pid;
  LevelExpectations expect;
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    if (it == units_.end() || it->second->run != run || !it->second->launched) return;
    const Unit& u = *it->second;
    pid = u.handle.pid;
    expect = ExpectationsFor(u.run_spec->def, u.run_spec->uid, u.run_spec->caps);
  }
  v1::Verification v = Verify(pid, expect, options_.layout, *options_.inspector);
  absl::MutexLock lock(&mu_);
  auto it = units_.find(name);
  if (it == units_.end() || it->second->run != run) return;  // Ended meanwhile: nothing to say.
  Unit& u = *it->second;
  u.verification = v;
  if (!v.ok()) {
    ServiceEvent d;
    d.set_detail(DescribeFailures(v));
    Publish(u, common::v1::EVENT_KIND_SERVICE_VERIFICATION_MISMATCH, common::v1::SEVERITY_CRITICAL,
            absl::StrCat("service ", name, " does not match level ", u.run_spec->level(), ": ", d.detail()), d);
  }
}

// ---- Re-adoption ----

void ServiceManager::Adopt(const v1::RunRecord& r) {
  std::shared_ptr<const ServiceSpec> spec;
  uint64_t run;
  {
    absl::MutexLock lock(&mu_);
    Unit* u = units_.count(r.name()) ? units_[r.name()].get() : nullptr;
    absl::StatusOr<ServiceSpec> compiled = CompileDefinition(r.definition(), options_.policy);
    if (compiled.ok()) {
      spec = std::make_shared<const ServiceSpec>(std::move(*compiled));
    } else if (u != nullptr && u->spec != nullptr) {
      spec = u->spec;
    } else {
      Log(LogLevel::kError, "a recorded run has no usable definition; left alone",
          {{"service", r.name()}, {"id", r.id()}, {"error", compiled.status().ToString()}});
      return;
    }
    if (u == nullptr) {
      auto fresh = std::make_unique<Unit>();
      fresh->name = r.name();
      fresh->spec = spec;
      fresh->definition_error = "its file was removed; it runs until stopped";
      u = fresh.get();
      units_[r.name()] = std::move(fresh);
    }
    if (u->limiter == nullptr) u->ResetLimiter();
    std::deque<absl::Time> starts;
    for (const auto& t : r.recent_starts()) starts.push_back(FromProto(t));
    u->limiter->Restore(std::move(starts));
    run = u->run = next_run_++;
    u->run_spec = spec;
    u->launched = false;
    u->restarts = r.restarts();
    u->consecutive = r.consecutive_restarts();
    u->started = FromProto(r.started());
    u->ready = r.ready();
    SetState(*u, v1::SERVICE_STATE_STARTING);
  }
  Launcher& launcher = LauncherFor(*spec);
  absl::StatusOr<RunHandle> handle;
  const absl::Time give_up = absl::Now() + kAdoptRetryFor;
  for (absl::Duration wait = absl::Milliseconds(100);; wait = std::min(wait * 2, absl::Seconds(1))) {
    handle = launcher.Adopt(r.id(), [this, name = r.name(), run](const RunOutcome& o) { OnExit(name, run, o); });
    if (handle.ok() || !absl::IsUnavailable(handle.status()) || absl::Now() + wait > give_up) break;
    absl::SleepFor(wait);
  }
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    Unit& u = *units_[r.name()];
    if (!handle.ok()) {
      Log(LogLevel::kWarning, "run not re-adopted", {{"service", r.name()}, {"id", r.id()}, {"error", handle.status().ToString()}});
      u.launched = true;  // So that HandleExit sees a run to end.
      RunOutcome lost;
      lost.reason = "unknown";
      lost.detail = absl::StrCat("lost while svcd was down: ", handle.status().message());
      HandleExit(u, lost, &actions);
    } else {
      u.launched = true;
      u.handle = *handle;
      if (!Sandboxed(spec->level()) && !r.cgroup().empty()) {
        absl::StatusOr<std::unique_ptr<sandboxd::Cgroup>> cg =
            sandboxd::Cgroup::Adopt(options_.layout, options_.cgroup_parent, r.cgroup());
        if (cg.ok()) {
          u.cgroup = std::move(*cg);
          u.cgroup_leaf = r.cgroup();
          u.handle.cgroup_paths = u.cgroup->paths();
        } else {
          Log(LogLevel::kWarning, "cgroup of a re-adopted run not found",
              {{"service", r.name()}, {"error", cg.status().ToString()}});
        }
      }
      const absl::Time now = absl::Now();
      if (u.ready) {
        SetState(u, v1::SERVICE_STATE_RUNNING);
      } else {
        u.ready_deadline = now + spec->ready_timeout;
      }
      if (spec->watchdog > absl::ZeroDuration()) u.watchdog_deadline = now + spec->watchdog;
      u.verify_at = now;
      Log(LogLevel::kInfo, "re-adopted", {{"service", r.name()}, {"pid", absl::StrCat(u.handle.pid)}});
      if (u.early_exit.has_value()) {
        const RunOutcome early = *u.early_exit;
        HandleExit(u, early, &actions);
      }
    }
    changed_.SignalAll();
  }
  Run(std::move(actions));
}

void ServiceManager::StartEnabled() {
  boot_ = std::thread([this] {
    DependencyGraph graph;
    std::set<std::string> enabled;
    {
      absl::MutexLock lock(&mu_);
      graph = GraphLocked();
      for (const auto& [n, u] : units_) {
        if (u->spec != nullptr && u->spec->def.enabled() && u->run == 0) enabled.insert(n);
      }
    }
    for (const std::string& name : StartOrder(graph, enabled)) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      absl::StatusOr<v1::ServiceStatus> s = Start(name);
      if (!s.ok()) Log(LogLevel::kWarning, "enabled service not started", {{"service", name}, {"error", s.status().ToString()}});
    }
  });
}

// ---- Reporting ----

void ServiceManager::SetState(Unit& u, v1::ServiceState state) {
  if (u.state == state) return;
  u.state = state;
  u.since = absl::Now();
}

v1::ServiceStatus ServiceManager::StatusOf(const Unit& u) const {
  v1::ServiceStatus s;
  s.set_name(u.name);
  s.set_state(u.state);
  *s.mutable_since() = ToProto(u.since);
  s.set_restarts(u.restarts);
  if (u.last_exit.ByteSizeLong() > 0) *s.mutable_last_exit() = u.last_exit;
  const std::shared_ptr<const ServiceSpec>& spec = u.run_spec ? u.run_spec : u.spec;
  if (spec) {
    s.set_level(spec->level());
    s.set_enabled(spec->def.enabled());
  }
  if (u.spec) *s.mutable_definition() = u.spec->def;
  s.set_result(u.result);
  s.set_definition_error(u.definition_error);
  if (u.state == v1::SERVICE_STATE_RESTARTING) *s.mutable_next_start() = ToProto(u.next_start);
  if (u.run != 0 && u.launched) {
    s.set_pid(u.handle.pid);
    s.set_backend_id(u.backend_id());
    s.set_uptime_seconds(absl::ToDoubleSeconds(absl::Now() - u.started));
    if (u.verification.checks_size() > 0) *s.mutable_verification() = u.verification;
    if (u.cgroup != nullptr) {
      if (absl::StatusOr<sandboxd::CgroupStats> st = u.cgroup->Stats(); st.ok()) {
        if (st->memory_working_set_bytes) s.set_memory_bytes(*st->memory_working_set_bytes);
        if (st->cpu_usage_ns) s.set_cpu_seconds(*st->cpu_usage_ns / 1e9);
      }
    }
  }
  return s;
}

absl::StatusOr<v1::ServiceStatus> ServiceManager::Status(const std::string& name) {
  v1::ServiceStatus s;
  std::vector<std::string> workload_cgroups;
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    s = StatusOf(*it->second);
    const Unit& u = *it->second;
    if (u.run != 0 && u.launched && Sandboxed(u.run_spec->level())) workload_cgroups = u.handle.cgroup_paths;
  }
  // Read from sandboxd's cgroup files, not asked of sandboxd: a stopped or restarting
  // sandboxd must not hold up svcd's answers.
  if (!workload_cgroups.empty()) {
    if (absl::StatusOr<sandboxd::CgroupStats> st = sandboxd::Cgroup::StatsOf(options_.layout, workload_cgroups);
        st.ok()) {
      if (st->memory_working_set_bytes) s.set_memory_bytes(*st->memory_working_set_bytes);
      if (st->cpu_usage_ns) s.set_cpu_seconds(*st->cpu_usage_ns / 1e9);
    }
  }
  return s;
}

std::vector<v1::ServiceStatus> ServiceManager::List() {
  std::vector<std::string> names;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [n, u] : units_) names.push_back(n);
  }
  std::vector<v1::ServiceStatus> out;
  for (const std::string& n : names) {
    absl::StatusOr<v1::ServiceStatus> s = Status(n);
    if (s.ok()) out.push_back(std::move(*s));
  }
  return out;
}

absl::StatusOr<v1::ExplainResponse> ServiceManager::Explain(const std::string& name) {
  std::shared_ptr<const ServiceSpec> spec;
  v1::Verification verification;
  LaunchContext ctx;
  {
    absl::MutexLock lock(&mu_);
    auto it = units_.find(name);
    if (it == units_.end()) return absl::NotFoundError(absl::StrCat("name: no service \"", name, "\""));
    const Unit& u = *it->second;
    spec = u.run_spec ? u.run_spec : u.spec;
    if (spec == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(name, ": no valid definition: ", u.definition_error));
    }
    verification = u.verification;
    ctx.cgroups = u.handle.cgroup_paths;
  }
  ctx.log_path = absl::StrCat("<log FIFO of ", name, ">");
  if (spec->def.readiness() == v1::READINESS_NOTIFY || spec->watchdog > absl::ZeroDuration()) {
    ctx.notify_socket = absl::StrCat(options_.notify_dir, "/", name, ".sock");
  }
  SECUREOS_ASSIGN_OR_RETURN(v1::ExplainResponse out, ExplainService(*spec, ctx));
  if (verification.checks_size() > 0) *out.mutable_verification() = verification;
  return out;
}

void ServiceManager::Publish(const Unit& u, EventKind kind, Severity severity, const std::string& message,
                             ServiceEvent details) const {
  details.set_service(u.name);
  const std::shared_ptr<const ServiceSpec>& spec = u.run_spec ? u.run_spec : u.spec;
  if (spec) details.set_level(spec->level());
  if (u.run != 0 && u.launched) {
    details.set_pid(u.handle.pid);
    details.set_backend_id(u.backend_id());
  }
  details.set_restarts(u.restarts);
  common::v1::Event e;
  e.set_kind(kind);
  e.set_severity(severity);
  e.set_message(message);
  *e.mutable_service() = std::move(details);
  options_.events->Publish(std::move(e));
}

void ServiceManager::SaveState() {
  v1::RunState state;
  for (const auto& [name, up] : units_) {
    const Unit& u = *up;
    if (u.run == 0 || !u.launched) continue;
    v1::RunRecord* r = state.add_services();
    r->set_name(name);
    r->set_launcher(Sandboxed(u.run_spec->level()) ? "sandboxd" : "capd");
    r->set_id(u.handle.id);
    r->set_pid(u.handle.pid);
    *r->mutable_started() = ToProto(u.started);
    r->set_restarts(u.restarts);
    r->set_consecutive_restarts(u.consecutive);
    for (absl::Time t : u.limiter->starts()) *r->add_recent_starts() = ToProto(t);
    r->set_ready(u.ready);
    r->set_cgroup(u.cgroup_leaf);
    *r->mutable_definition() = u.run_spec->def;
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(state, &text);
  if (absl::Status s = WriteFileAtomically(options_.state_path, text, 0600, Durability::kProcessCrash); !s.ok()) {
    Log(LogLevel::kError, "state file not written", {{"path", options_.state_path}, {"error", s.ToString()}});
  }
}

}  // namespace secureos::svcd
