#include "containerd-lite/container_manager.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/sandboxd_outcome.h"
#include "common/status.h"
#include "containerd-lite/bridge_addresses.h"
#include "containerd-lite/bundle_facts.h"
#include "containerd-lite/bundle_owner.h"
#include "containerd-lite/compliance.h"
#include "containerd-lite/container_id.h"
#include "google/protobuf/util/time_util.h"

namespace secureos::ctr {
namespace {

namespace sbx = ::secureos::sandboxd::v1;
using google::protobuf::util::TimeUtil;

constexpr char kOciVersion[] = "1.0.2";
constexpr absl::Duration kForceDeleteWait = absl::Seconds(10);

const char* StatusName(v1::ContainerStatus s) {
  switch (s) {
    case v1::CONTAINER_STATUS_CREATED: return "created";
    case v1::CONTAINER_STATUS_RUNNING: return "running";
    case v1::CONTAINER_STATUS_STOPPED: return "stopped";
    default: return "unknown";
  }
}

std::string Quote(const std::string& id) { return absl::StrCat("\"", id, "\""); }

const char* ModeName(v1::ComplianceMode m) {
  switch (m) {
    case v1::COMPLIANCE_MODE_AUDIT: return "audit";
    case v1::COMPLIANCE_MODE_WARN: return "warn";
    default: return "enforce";
  }
}

v1::IdMapping ToProto(const IdMapping& m) {
  v1::IdMapping p;
  p.set_container_id(m.container_start);
  p.set_host_id(m.host_start);
  p.set_size(m.count);
  return p;
}

// The bundle's own mappings of one kind, for the pool's Reserve.
std::vector<IdMapping> BundleMappings(const google::protobuf::RepeatedPtrField<oci::v1::IdMapping>& in) {
  std::vector<IdMapping> out;
  for (const auto& m : in) out.push_back(IdMapping{m.container_id(), m.host_id(), m.size()});
  return out;
}

sbx::NetworkMode SandboxNetwork(v1::NetworkMode mode) {
  return mode == v1::NETWORK_MODE_NONE ? sbx::NETWORK_MODE_NONE : sbx::NETWORK_MODE_LOOPBACK;
}

}  // namespace

// A container made in sandboxd but not yet registered (Create's result before the commit).
struct ContainerManager::Prepared {
  v1::ContainerState state;
};

absl::StatusOr<std::unique_ptr<ContainerManager>> ContainerManager::Open(Options options) {
  if (options.uids == nullptr || options.gids == nullptr || options.runner == nullptr ||
      options.events == nullptr || !options.config) {
    return absl::InvalidArgumentError("ContainerManager: uids, gids, runner, events and config are required");
  }
  std::unique_ptr<ContainerManager> m(new ContainerManager(std::move(options)));
  SECUREOS_RETURN_IF_ERROR(m->Recover());
  if (m->options_.watch_interval > absl::ZeroDuration()) {
    m->watcher_ = std::thread([p = m.get()] { p->WatchLoop(); });
  }
  return m;
}

ContainerManager::ContainerManager(Options options)
    : options_(std::move(options)), store_(options_.state_dir) {}

ContainerManager::~ContainerManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  if (watcher_.joinable()) watcher_.join();
  // The runner's followers stop with it (Options owns it): no OnExit after this.
}

std::string ContainerManager::PoolPath(IdKind kind) const {
  return absl::StrCat(options_.state_dir, "/", IdKindName(kind), "_ranges.textproto");
}

// ---- Recovery

absl::Status ContainerManager::Recover() {
  SECUREOS_ASSIGN_OR_RETURN(ContainerStore::Loaded loaded, store_.LoadAll());
  for (const std::string& problem : loaded.problems) {
    Log(LogLevel::kError, "container record unreadable", {{"error", problem}});
  }
  std::set<std::string> known;
  for (v1::ContainerState& state : loaded.containers) {
    known.insert(state.id());
    Adopt(std::move(state));
  }
  // Ranges whose container has no record: a crash between the pool's save and the record's.
  for (IdRangePool* pool : {options_.uids.get(), options_.gids.get()}) {
    bool changed = false;
    const v1::IdRangesState snapshot = pool->Snapshot();
    for (const auto& a : snapshot.allocations()) {
      if (known.count(a.container()) != 0) continue;
      Log(LogLevel::kWarning, "range without a container released",
          {{"container", a.container()}, {"pool", std::string(IdKindName(pool->kind()))}});
      changed = pool->Release(a.container()).ok() || changed;
    }
    if (changed) SECUREOS_RETURN_IF_ERROR(pool->Save(PoolPath(pool->kind()), Durability::kProcessCrash));
  }
  return absl::OkStatus();
}

void ContainerManager::Adopt(v1::ContainerState state) {
  const std::string id = state.id();
  const std::string workload = state.workload_id();
  const v1::ContainerStatus status = state.status();
  {
    absl::MutexLock lock(&mu_);
    containers_[id].state = std::move(state);
  }
  if (status == v1::CONTAINER_STATUS_RUNNING) {
    // Follow retries while sandboxd is away; NOT_FOUND is an outcome ("unknown").
    options_.runner->Follow(workload, [this, id](const RunOutcome& o) { OnExit(id, o); });
    return;
  }
  if (status != v1::CONTAINER_STATUS_CREATED) return;
  absl::StatusOr<sbx::WorkloadInfo> info = options_.runner->Status(workload);
  if (info.ok() && info->state() == sbx::WORKLOAD_STATE_CREATED) return;
  if (!info.ok() && !absl::IsNotFound(info.status())) return;  // sandboxd away: ask again later.
  RunOutcome lost;
  lost.reason = "lost";
  lost.detail = info.ok() ? "its workload left the created state while containerd-lite was away"
                          : "sandboxd no longer knows its workload (sandboxd restarted before it was started)";
  absl::MutexLock lock(&mu_);
  Stopped(containers_[id], lost);
}

// ---- Create

absl::StatusOr<v1::ContainerState> ContainerManager::Create(const v1::CreateRequest& request,
                                                            const Requester& requester) {
  return CreateInternal(request, requester, /*streamed=*/false);
}

absl::StatusOr<v1::ContainerState> ContainerManager::CreateInternal(const v1::CreateRequest& request,
                                                                    const Requester& requester,
                                                                    bool streamed) {
  SECUREOS_RETURN_IF_ERROR(CheckContainerId(request.id()));
  if (request.bundle().empty() || request.bundle().front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle: required, an absolute path, got \"", request.bundle(), "\""));
  }
  std::optional<Subnet> subnet;
  if (request.network() == v1::NETWORK_MODE_BRIDGE) {
    const std::string cidr = options_.config()->network().subnet();
    if (cidr.empty()) {
      return absl::FailedPreconditionError(
          "network: NETWORK_MODE_BRIDGE needs network.subnet in containerd-lite's configuration");
    }
    SECUREOS_ASSIGN_OR_RETURN(subnet, ParseSubnet(cidr));
  }
  std::string address;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = containers_.find(request.id()); it != containers_.end()) {
      return absl::AlreadyExistsError(absl::StrCat("container ", Quote(request.id()), " already exists (",
                                                   StatusName(it->second.state.status()), ")"));
    }
    if (subnet.has_value()) {
      std::set<std::string> used;
      for (const auto& [id, c] : containers_) used.insert(c.state.address());
      SECUREOS_ASSIGN_OR_RETURN(address, FirstFreeAddress(*subnet, used));
    }
    Container& c = containers_[request.id()];
    c.busy = Busy::kCreating;
    c.state.set_id(request.id());
    c.state.set_address(address);  // Held from now on: a concurrent create takes the next.
  }
  absl::StatusOr<Prepared> prepared =
      Prepare(request, requester, streamed, subnet ? std::optional(GatewayOf(*subnet)) : std::nullopt, address);
  absl::MutexLock lock(&mu_);
  Container& c = containers_[request.id()];
  c.busy = Busy::kNone;
  absl::Status committed = prepared.ok() ? CommitLocked(c, prepared->state) : prepared.status();
  if (!committed.ok()) {
    containers_.erase(request.id());
    changed_.SignalAll();
    if (prepared.ok()) {
      (void)options_.runner->Kill(prepared->state.workload_id(), SIGKILL);
      ReleaseRanges(request.id());
    }
    v1::ContainerState refused;
    refused.set_id(request.id());
    refused.set_bundle(request.bundle());
    common::v1::ContainerEvent d;
    d.set_detail(std::string(committed.message()));
    Publish(common::v1::EVENT_KIND_CONTAINER_REFUSED, common::v1::SEVERITY_WARNING, refused,
            requester.trace_id, absl::StrCat("container ", request.id(), " refused: ", committed.message()), d);
    return committed;
  }
  Publish(common::v1::EVENT_KIND_CONTAINER_CREATED, common::v1::SEVERITY_INFO, c.state,
          requester.trace_id, absl::StrCat("container ", request.id(), " created from ", c.state.bundle()));
  changed_.SignalAll();
  return c.state;
}

absl::StatusOr<ContainerManager::Prepared> ContainerManager::Prepare(
    const v1::CreateRequest& request, const Requester& requester, bool streamed,
    const std::optional<std::string>& gateway, const std::string& address) {
  const std::string& id = request.id();
  SECUREOS_ASSIGN_OR_RETURN(Bundle bundle, LoadBundle(request.bundle()));
  SECUREOS_RETURN_IF_ERROR(CheckBundleOwner(bundle, requester.uid));
  Prepared p;
  std::vector<v1::Finding> findings;
  SECUREOS_RETURN_IF_ERROR(CheckCompliance(id, bundle, requester, &findings));
  v1::IdMapping uid_map, gid_map;
  SECUREOS_RETURN_IF_ERROR(AllocateRanges(id, bundle.spec, &uid_map, &gid_map));
  absl::Cleanup release = [&] { ReleaseRanges(id); };
  std::vector<std::string> notes;
  SECUREOS_ASSIGN_OR_RETURN(sbx::SandboxSpec spec, ToSandboxSpec(bundle, uid_map, gid_map, &notes));
  spec.set_name(id);
  spec.set_principal(absl::StrCat("container:", id));
  spec.set_network(SandboxNetwork(request.network()));
  if (gateway.has_value()) {
    spec.set_network(sbx::NETWORK_MODE_BRIDGE);
    spec.mutable_bridge()->set_name(options_.config()->network().bridge().empty()
                                        ? "sos0"
                                        : options_.config()->network().bridge());
    spec.mutable_bridge()->set_address(address);
    spec.mutable_bridge()->set_gateway(*gateway);
  }
  spec.mutable_namespaces()->set_net(true);
  sbx::CreateRequest create;
  *create.mutable_spec() = std::move(spec);
  create.set_trace_id(requester.trace_id);
  v1::ContainerState& s = p.state;
  if (streamed) {
    create.set_output(sbx::OUTPUT_MODE_STREAM);
  } else {
    s.set_log_path(absl::StrCat(options_.state_dir, "/", id, ".log"));
    create.set_output(sbx::OUTPUT_MODE_FILES);
    create.set_stdout_path(s.log_path());
    create.set_stderr_path(s.log_path());
  }
  SECUREOS_ASSIGN_OR_RETURN(sbx::WorkloadInfo workload, options_.runner->Create(create));
  std::move(release).Cancel();
  s.set_oci_version(kOciVersion);
  s.set_id(id);
  s.set_status(v1::CONTAINER_STATUS_CREATED);
  s.set_bundle(bundle.dir);
  s.mutable_annotations()->insert(bundle.spec.annotations().begin(), bundle.spec.annotations().end());
  *s.add_uid_mappings() = uid_map;
  *s.add_gid_mappings() = gid_map;
  s.set_user_namespace_added(!DeclaresUserNamespace(bundle.spec));
  s.set_workload_id(workload.id());
  s.set_pid(workload.pid());  // sandboxd made the process; it waits for Start.
  *s.mutable_created() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now()));
  for (auto& f : findings) *s.add_findings() = std::move(f);
  s.set_network(request.network() == v1::NETWORK_MODE_UNSPECIFIED ? v1::NETWORK_MODE_LOOPBACK : request.network());
  s.set_address(address);
  for (auto& n : notes) s.add_notes(std::move(n));
  return p;
}

absl::Status ContainerManager::CheckCompliance(const std::string& id, const Bundle& bundle,
                                               const Requester& requester, std::vector<v1::Finding>* kept) {
  const v1::CompliancePolicy policy = options_.config()->compliance();
  std::vector<v1::Finding> findings = ::secureos::ctr::CheckCompliance(FactsOf(bundle.spec), policy);
  v1::ContainerState subject;
  subject.set_id(id);
  subject.set_bundle(bundle.dir);
  for (const v1::Finding& f : findings) {
    common::v1::ContainerEvent d;
    d.set_rule_id(f.rule_id());
    d.set_mode(ModeName(f.mode()));
    d.set_detail(absl::StrCat(f.field(), ": ", f.message()));
    Publish(common::v1::EVENT_KIND_COMPLIANCE_FINDING, common::v1::SEVERITY_WARNING, subject,
            requester.trace_id, absl::StrCat(f.rule_id(), " (", ModeName(f.mode()), ") ", f.field(), ": ", f.message()), d);
  }
  const bool enforce = policy.mode() == v1::COMPLIANCE_MODE_ENFORCE ||
                       policy.mode() == v1::COMPLIANCE_MODE_UNSPECIFIED;
  if (enforce && !findings.empty()) {
    std::vector<std::string> lines;
    for (const v1::Finding& f : findings) {
      lines.push_back(absl::StrCat(f.rule_id(), " ", f.field(), ": ", f.message()));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("compliance (enforce): ", absl::StrJoin(lines, "; ")));
  }
  *kept = std::move(findings);
  return absl::OkStatus();
}

absl::Status ContainerManager::AllocateRanges(const std::string& id, const oci::v1::Spec& spec,
                                              v1::IdMapping* uid, v1::IdMapping* gid) {
  const bool allow_host_ids = options_.config()->allow_host_ids();
  const auto& uids = spec.linux().uid_mappings();
  const auto& gids = spec.linux().gid_mappings();
  if (uids.empty() != gids.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config.json: linux.", uids.empty() ? "uidMappings" : "gidMappings",
        ": required when linux.", uids.empty() ? "gidMappings" : "uidMappings", " is given"));
  }
  if (uids.size() > 1 || gids.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config.json: linux.", uids.size() > 1 ? "uidMappings" : "gidMappings",
        ": one mapping per kind is supported, got ", std::max(uids.size(), gids.size())));
  }
  struct Kind {
    IdRangePool* pool;
    const google::protobuf::RepeatedPtrField<oci::v1::IdMapping>* mappings;
    const char* field;
    v1::IdMapping* out;
  };
  std::vector<IdRangePool*> done;
  absl::Cleanup undo = [&] {
    for (IdRangePool* pool : done) (void)pool->Release(id);
  };
  for (const Kind& k : {Kind{options_.uids.get(), &uids, "config.json: linux.uidMappings", uid},
                        Kind{options_.gids.get(), &gids, "config.json: linux.gidMappings", gid}}) {
    if (k.mappings->empty()) {
      SECUREOS_ASSIGN_OR_RETURN(IdMapping m, k.pool->Allocate(id));
      *k.out = ToProto(m);
    } else {
      ReserveOptions o;
      o.allow_outside_pool = allow_host_ids;
      o.field = k.field;
      const std::vector<IdMapping> wanted = BundleMappings(*k.mappings);
      SECUREOS_RETURN_IF_ERROR(k.pool->Reserve(id, wanted, o));
      *k.out = ToProto(wanted.front());
    }
    done.push_back(k.pool);
    SECUREOS_RETURN_IF_ERROR(k.pool->Save(PoolPath(k.pool->kind()), Durability::kProcessCrash));
  }
  std::move(undo).Cancel();
  return absl::OkStatus();
}

void ContainerManager::ReleaseRanges(const std::string& id) {
  for (IdRangePool* pool : {options_.uids.get(), options_.gids.get()}) {
    if (!pool->Release(id).ok()) continue;
    absl::Status s = pool->Save(PoolPath(pool->kind()), Durability::kProcessCrash);
    if (!s.ok()) {
      // The file still holds the range; the next start releases it (no record holds it).
      Log(LogLevel::kError, "save id ranges", {{"container", id}, {"error", std::string(s.message())}});
    }
  }
}

// ---- Changes

absl::Status ContainerManager::CommitLocked(Container& c, v1::ContainerState state) {
  SECUREOS_RETURN_IF_ERROR(store_.Save(state));
  c.state = std::move(state);
  changed_.SignalAll();
  return absl::OkStatus();
}

absl::StatusOr<v1::ContainerState> ContainerManager::Claim(
    const std::string& id, Busy busy, std::initializer_list<v1::ContainerStatus> allowed,
    const char* verb) {
  SECUREOS_RETURN_IF_ERROR(CheckContainerId(id));
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return absl::NotFoundError(absl::StrCat("container ", Quote(id), " does not exist"));
  }
  Container& c = it->second;
  if (c.busy != Busy::kNone) {
    return absl::FailedPreconditionError(absl::StrCat(
        "container ", Quote(id), " is busy (", c.busy == Busy::kCreating ? "being created"
                                              : c.busy == Busy::kStarting ? "starting" : "being deleted", ")"));
  }
  if (std::find(allowed.begin(), allowed.end(), c.state.status()) == allowed.end()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot ", verb, " container ", Quote(id),
                                                      ": it is ", StatusName(c.state.status())));
  }
  c.busy = busy;
  return c.state;
}

void ContainerManager::Release(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(id);
  if (it != containers_.end()) it->second.busy = Busy::kNone;
  changed_.SignalAll();
}

absl::StatusOr<v1::ContainerState> ContainerManager::Start(const std::string& id) {
  SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState state,
                            Claim(id, Busy::kStarting, {v1::CONTAINER_STATUS_CREATED}, "start"));
  absl::StatusOr<sbx::WorkloadInfo> started = options_.runner->Start(state.workload_id());
  absl::MutexLock lock(&mu_);
  Container& c = containers_[id];
  c.busy = Busy::kNone;
  if (!started.ok()) {
    RunOutcome failed;
    failed.reason = "start failed";
    failed.detail = std::string(started.status().message());
    Stopped(c, failed);
    return started.status();
  }
  state.set_status(v1::CONTAINER_STATUS_RUNNING);
  state.set_pid(started->pid());
  absl::Status s = CommitLocked(c, state);
  if (!s.ok()) {
    // Unrecorded, it would outlive a restart unknown: it does not run at all.
    (void)options_.runner->Kill(state.workload_id(), SIGKILL);
    return s;
  }
  common::v1::ContainerEvent d;
  d.set_pid(state.pid());
  Publish(common::v1::EVENT_KIND_CONTAINER_STARTED, common::v1::SEVERITY_INFO, state, "",
          absl::StrCat("container ", id, " started as pid ", state.pid()), d);
  options_.runner->Follow(state.workload_id(), [this, id](const RunOutcome& o) { OnExit(id, o); });
  return c.state;
}

void ContainerManager::OnExit(const std::string& id, const RunOutcome& outcome) {
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(id);
  if (it == containers_.end() || it->second.state.status() == v1::CONTAINER_STATUS_STOPPED) return;
  Stopped(it->second, outcome);
}

void ContainerManager::Stopped(Container& c, const RunOutcome& outcome) {
  v1::ContainerState state = c.state;
  state.set_status(v1::CONTAINER_STATUS_STOPPED);
  const int32_t pid = state.pid();
  state.set_pid(0);
  state.set_exit_code(outcome.has_code ? outcome.code : -1);
  state.set_signal(outcome.signal);
  state.set_exit_reason(outcome.reason);
  absl::Status s = CommitLocked(c, state);
  if (!s.ok()) {
    // Kept in memory; the record still says running, which the next start corrects.
    c.state = state;
    Log(LogLevel::kError, "save container record", {{"container", state.id()}, {"error", std::string(s.message())}});
  }
  common::v1::ContainerEvent d;
  d.set_pid(pid);
  d.set_exit_code(state.exit_code());
  d.set_signal(state.signal());
  d.set_reason(state.exit_reason());
  d.set_detail(outcome.detail);
  const bool oom = outcome.reason == "oom";
  Publish(common::v1::EVENT_KIND_CONTAINER_EXITED,
          oom ? common::v1::SEVERITY_CRITICAL
              : (outcome.reason == "exited" ? common::v1::SEVERITY_INFO : common::v1::SEVERITY_WARNING),
          state, "",
          absl::StrCat("container ", state.id(), oom ? " was OOM-killed" : " stopped", ": ",
                       outcome.detail.empty() ? outcome.reason : outcome.detail),
          d);
  changed_.SignalAll();
}

absl::Status ContainerManager::Kill(const std::string& id, int signal) {
  if (signal == 0) signal = SIGTERM;
  if (signal < 1 || signal > SIGRTMAX) {
    return absl::InvalidArgumentError(absl::StrCat("signal: 1 to ", SIGRTMAX, ", got ", signal));
  }
  v1::ContainerState state;
  {
    absl::MutexLock lock(&mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      SECUREOS_RETURN_IF_ERROR(CheckContainerId(id));
      return absl::NotFoundError(absl::StrCat("container ", Quote(id), " does not exist"));
    }
    state = it->second.state;
    if (it->second.busy == Busy::kCreating || it->second.busy == Busy::kDeleting ||
        (state.status() != v1::CONTAINER_STATUS_RUNNING && state.status() != v1::CONTAINER_STATUS_CREATED)) {
      return absl::FailedPreconditionError(absl::StrCat("container ", Quote(id), " is not running (",
                                                        StatusName(state.status()), ")"));
    }
  }
  SECUREOS_RETURN_IF_ERROR(options_.runner->Kill(state.workload_id(), signal));
  if (state.status() == v1::CONTAINER_STATUS_CREATED) {
    RunOutcome killed;
    killed.signal = signal;
    killed.reason = "killed";
    killed.detail = absl::StrCat("killed by signal ", signal, " before it started");
    OnExit(id, killed);
  }
  return absl::OkStatus();
}

absl::Status ContainerManager::Delete(const std::string& id, bool force) {
  absl::StatusOr<v1::ContainerState> claimed =
      force ? Claim(id, Busy::kDeleting,
                    {v1::CONTAINER_STATUS_STOPPED, v1::CONTAINER_STATUS_CREATED, v1::CONTAINER_STATUS_RUNNING},
                    "delete")
            : Claim(id, Busy::kDeleting, {v1::CONTAINER_STATUS_STOPPED, v1::CONTAINER_STATUS_CREATED}, "delete");
  if (absl::IsFailedPrecondition(claimed.status()) && !force &&
      State(id).ok() && State(id)->status() == v1::CONTAINER_STATUS_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot delete container ", Quote(id), " that is not stopped: running (kill it first, or force)"));
  }
  SECUREOS_RETURN_IF_ERROR(claimed.status());
  absl::Cleanup unclaim = [&] { Release(id); };
  if (claimed->status() != v1::CONTAINER_STATUS_STOPPED) {
    absl::Status k = options_.runner->Kill(claimed->workload_id(), SIGKILL);
    if (!k.ok() && !absl::IsFailedPrecondition(k) && !absl::IsNotFound(k)) return k;
    if (claimed->status() == v1::CONTAINER_STATUS_RUNNING) {
      SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState after, WaitStopped(id, kForceDeleteWait));
      if (after.status() != v1::CONTAINER_STATUS_STOPPED) {
        return absl::DeadlineExceededError(absl::StrCat("container ", Quote(id), " did not stop within ",
                                                        absl::FormatDuration(kForceDeleteWait), " of SIGKILL"));
      }
    }
  }
  SECUREOS_RETURN_IF_ERROR(store_.Remove(id));
  std::move(unclaim).Cancel();
  ReleaseRanges(id);
  if (!claimed->log_path().empty()) ::unlink(claimed->log_path().c_str());
  v1::ContainerState gone;
  {
    absl::MutexLock lock(&mu_);
    gone = containers_[id].state;
    containers_.erase(id);
    changed_.SignalAll();
  }
  Publish(common::v1::EVENT_KIND_CONTAINER_DELETED, common::v1::SEVERITY_INFO, gone, "",
          absl::StrCat("container ", id, " deleted"));
  return absl::OkStatus();
}

// ---- Queries

absl::StatusOr<v1::ContainerState> ContainerManager::State(const std::string& id) const {
  SECUREOS_RETURN_IF_ERROR(CheckContainerId(id));
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(id);
  if (it == containers_.end() || it->second.busy == Busy::kCreating) {
    return absl::NotFoundError(absl::StrCat("container ", Quote(id), " does not exist"));
  }
  return it->second.state;
}

std::vector<v1::ContainerState> ContainerManager::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ContainerState> out;
  for (const auto& [id, c] : containers_) {
    if (c.busy != Busy::kCreating) out.push_back(c.state);
  }
  return out;
}

absl::StatusOr<v1::ContainerState> ContainerManager::WaitStopped(const std::string& id,
                                                                 absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  for (;;) {
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      return absl::NotFoundError(absl::StrCat("container ", Quote(id), " does not exist"));
    }
    if (it->second.state.status() == v1::CONTAINER_STATUS_STOPPED || stopping_) return it->second.state;
    if (changed_.WaitWithDeadline(&mu_, deadline)) return it->second.state;
  }
}

absl::StatusOr<v1::ContainerStats> ContainerManager::Sample(const std::string& id,
                                                            const v1::ContainerStats* previous) const {
  SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState state, State(id));
  if (state.status() != v1::CONTAINER_STATUS_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat("container ", Quote(id), " is not running (",
                                                      StatusName(state.status()), ")"));
  }
  SECUREOS_ASSIGN_OR_RETURN(sbx::WorkloadInfo info, options_.runner->Status(state.workload_id()));
  if (info.state() != sbx::WORKLOAD_STATE_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat("container ", Quote(id), " is not running (it just ended)"));
  }
  return StatsOf(id, info, previous, absl::Now());
}

absl::StatusOr<v1::CheckResponse> ContainerManager::Check(const v1::CheckRequest& request) const {
  if (request.bundle().empty() || request.bundle().front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle: required, an absolute path, got \"", request.bundle(), "\""));
  }
  SECUREOS_ASSIGN_OR_RETURN(Bundle bundle, LoadBundle(request.bundle()));
  v1::CheckResponse response;
  for (v1::Finding& f : ::secureos::ctr::CheckCompliance(FactsOf(bundle.spec), options_.config()->compliance(),
                                                         request.level())) {
    *response.add_findings() = std::move(f);
  }
  response.set_compliant(response.findings().empty());
  return response;
}

// ---- Run

absl::Status ContainerManager::Run(const v1::RunRequest& request, const Requester& requester,
                                   const OnRunEvent& on_event, const std::function<bool()>& cancelled) {
  if (!request.has_create()) return absl::InvalidArgumentError("create: required: the container's id and bundle");
  SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState created, CreateInternal(request.create(), requester, true));
  const std::string id = created.id();
  absl::Cleanup remove = [&] {
    if (!request.keep()) (void)Delete(id, /*force=*/true);
  };
  SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState running, Start(id));
  v1::RunEvent started;
  *started.mutable_started() = running;
  bool reader_gone = !on_event(started);
  absl::Status waited = options_.runner->Wait(
      running.workload_id(),
      [&](const sbx::RunEvent& e) {
        if (!e.has_output()) return true;
        v1::RunEvent out;
        out.mutable_output()->set_fd(e.output().fd());
        out.mutable_output()->set_data(e.output().data());
        reader_gone = reader_gone || !on_event(out);
        return !reader_gone;
      },
      [&] { return reader_gone || cancelled(); });
  if (reader_gone || cancelled()) {
    (void)options_.runner->Kill(running.workload_id(), SIGKILL);
    return absl::CancelledError("the caller went away: container killed");
  }
  SECUREOS_RETURN_IF_ERROR(waited);
  SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState stopped, WaitStopped(id, absl::Seconds(30)));
  v1::RunEvent exited;
  *exited.mutable_exited() = stopped;
  on_event(exited);
  return absl::OkStatus();
}

absl::Status ContainerManager::Exec(const v1::ExecRequest& request, const Requester& requester,
                                    const OnRunEvent& on_event, const std::function<bool()>& cancelled) {
  // What the request lacks is said before whether the container exists.
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  if (request.args().empty()) return absl::InvalidArgumentError("args: required: the program and its arguments");
  SECUREOS_ASSIGN_OR_RETURN(v1::ContainerState state, State(request.id()));
  if (state.status() != v1::CONTAINER_STATUS_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat("cannot exec in container ", Quote(request.id()),
                                                      ": it is ", StatusName(state.status())));
  }
  SECUREOS_ASSIGN_OR_RETURN(Bundle bundle, LoadBundle(state.bundle()));
  SECUREOS_ASSIGN_OR_RETURN(
      sbx::SandboxSpec program,
      ExecProgram(bundle, {request.args().begin(), request.args().end()},
                  {request.env().begin(), request.env().end()}, request.cwd()));
  sbx::ExecRequest exec;
  exec.set_id(state.workload_id());
  *exec.mutable_argv() = program.argv();
  *exec.mutable_env() = program.env();
  exec.set_cwd(program.filesystem().cwd());
  exec.set_trace_id(requester.trace_id);
  bool reader_gone = false;
  return options_.runner->Exec(
      exec,
      [&](const sbx::RunEvent& e) {
        v1::RunEvent out;
        if (e.has_started()) {
          out.mutable_exec_started()->set_id(request.id());
          out.mutable_exec_started()->set_pid(e.started().pid());
          *out.mutable_exec_started()->mutable_args() = program.argv();
        } else if (e.has_output()) {
          out.mutable_output()->set_fd(e.output().fd());
          out.mutable_output()->set_data(e.output().data());
        } else if (e.has_exited()) {
          const RunOutcome o = SandboxdOutcome(e.exited());
          out.mutable_exec_exited()->set_exit_code(o.has_code ? o.code : -1);
          out.mutable_exec_exited()->set_signal(o.signal);
          out.mutable_exec_exited()->set_reason(o.reason);
          out.mutable_exec_exited()->set_detail(o.detail);
        } else {
          return true;  // Violations are sandboxd's events.
        }
        reader_gone = !on_event(out);
        return !reader_gone;
      },
      [&] { return reader_gone || cancelled(); });
}

// ---- Thresholds and OOM kills

void ContainerManager::WatchLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    changed_.WaitWithTimeout(&mu_, options_.watch_interval);
    if (stopping_) break;
    mu_.Unlock();
    WatchOnce();
    mu_.Lock();
  }
}

void ContainerManager::WatchOnce() {
  const uint32_t percent = options_.config()->threshold_percent();
  std::vector<std::pair<std::string, std::string>> running;  // id, workload
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, c] : containers_) {
      if (c.state.status() == v1::CONTAINER_STATUS_RUNNING && c.busy == Busy::kNone) {
        running.emplace_back(id, c.state.workload_id());
      }
    }
  }
  for (const auto& [id, workload] : running) {
    absl::StatusOr<sbx::WorkloadInfo> info = options_.runner->Status(workload);
    if (!info.ok() || info->state() != sbx::WORKLOAD_STATE_RUNNING) continue;
    absl::MutexLock lock(&mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) continue;
    Container& c = it->second;
    v1::ContainerStats sample = StatsOf(id, *info, c.watch.last(), absl::Now());
    for (const Crossing& x : c.watch.Observe(&sample, percent)) {
      common::v1::ContainerEvent d;
      d.set_resource(x.resource);
      d.set_value(x.value);
      d.set_threshold(x.threshold);
      Publish(common::v1::EVENT_KIND_RESOURCE_THRESHOLD, common::v1::SEVERITY_WARNING, c.state, "",
              absl::StrCat("container ", id, " ", x.resource, " at ", x.value, " crossed ", percent,
                           "% of its limit ", x.limit),
              d);
    }
    if (const uint64_t ooms = c.watch.NewOomKills(sample); ooms > 0) {
      common::v1::ContainerEvent d;
      d.set_resource("memory");
      d.set_reason("oom");
      d.set_value(static_cast<double>(sample.oom_kills()));
      Publish(common::v1::EVENT_KIND_RESOURCE_THRESHOLD, common::v1::SEVERITY_CRITICAL, c.state, "",
              absl::StrCat("container ", id, ": the OOM killer killed ", ooms,
                           " process(es) at its memory limit (", sample.oom_kills(), " so far)"),
              d);
    }
  }
}

// ---- Events

void ContainerManager::Publish(common::v1::EventKind kind, common::v1::Severity severity,
                               const v1::ContainerState& state, const std::string& trace_id,
                               std::string message, common::v1::ContainerEvent detail) const {
  common::v1::Event e;
  e.set_kind(kind);
  e.set_severity(severity);
  e.set_trace_id(trace_id);
  e.set_message(std::move(message));
  if (!state.id().empty()) e.mutable_principal()->set_id(absl::StrCat("container:", state.id()));
  detail.set_id(state.id());
  detail.set_bundle(state.bundle());
  *e.mutable_container() = std::move(detail);
  options_.events->Publish(std::move(e));
}

}  // namespace secureos::ctr
