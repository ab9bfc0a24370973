#include "capd/capd_service.h"

#include <dirent.h>
#include <signal.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capd/principal.h"
#include "capd/proc_status.h"
#include "capd/spawn_plan.h"
#include "capd/spawner.h"
#include "common/field_errors.h"
#include "common/grpc_status.h"
#include "common/log.h"

namespace secureos::capd {
namespace {

using common::v1::CapabilityEvent;
using common::v1::EventKind;

v1::SeccompMode SeccompOf(int mode) {
  switch (mode) {
    case 0: return v1::SECCOMP_MODE_DISABLED;
    case 1: return v1::SECCOMP_MODE_STRICT;
    case 2: return v1::SECCOMP_MODE_FILTER;
    default: return v1::SECCOMP_MODE_UNSPECIFIED;
  }
}

v1::Securebits SecurebitsProto(uint32_t raw) {
  v1::Securebits b;
  b.set_raw(raw);
  b.set_noroot(raw & (1u << 0));
  b.set_noroot_locked(raw & (1u << 1));
  b.set_no_setuid_fixup(raw & (1u << 2));
  b.set_no_setuid_fixup_locked(raw & (1u << 3));
  b.set_keep_caps(raw & (1u << 4));
  b.set_keep_caps_locked(raw & (1u << 5));
  return b;
}

v1::ProcessCapabilities ToProto(const ProcStatus& s) {
  v1::ProcessCapabilities p;
  p.set_pid(s.pid);
  p.set_name(s.name);
  for (uid_t u : s.uids) p.add_uids(u);
  for (gid_t g : s.gids) p.add_gids(g);
  for (gid_t g : s.groups) p.add_groups(g);
  *p.mutable_effective() = capd::ToProto(s.effective);
  *p.mutable_permitted() = capd::ToProto(s.permitted);
  *p.mutable_inheritable() = capd::ToProto(s.inheritable);
  *p.mutable_bounding() = capd::ToProto(s.bounding);
  *p.mutable_ambient() = capd::ToProto(s.ambient);
  p.set_no_new_privs(s.no_new_privs);
  p.set_seccomp(SeccompOf(s.seccomp));
  p.set_start_time(s.start_time);
  return p;
}

// Validates "principal" and "capabilities" fields shared by Grant and Authorize.
absl::Status ParsePrincipalAndCaps(const std::string& principal_text, const std::string& caps_text,
                                   std::string* principal, CapSet* caps) {
  FieldErrors errors;
  absl::StatusOr<std::string> p = ParsePrincipal(principal_text);
  if (principal_text.empty()) {
    errors.Add("principal", "required");
  } else if (!p.ok()) {
    errors.Add("principal", p.status().message().substr(sizeof("principal: ") - 1));
  }
  absl::StatusOr<CapSet> c = CapSet::Parse(caps_text);
  if (caps_text.empty()) {
    errors.Add("capabilities", "required");
  } else if (!c.ok()) {
    errors.Add("capabilities", c.status().message());
  }
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  *principal = *p;
  *caps = *c;
  return absl::OkStatus();
}

std::string CallerPrincipal(const Caller& caller) { return UidPrincipal(caller.creds.uid); }

}  // namespace

CapSet CapdService::ContainerDefaults(const std::string& principal) const {
  if (!absl::StartsWith(principal, "container:")) return CapSet();
  absl::StatusOr<CapSet> d =
      CapSet::Parse(core()->config().Get<v1::CapdConfig>()->container_default_capabilities());
  return d.ok() ? *d : CapSet();  // Validated at load.
}

namespace {

}  // namespace

CapdService::CapdService(DaemonCore* core, std::unique_ptr<GrantStore> grants,
                         std::unique_ptr<SpawnRegistry> spawns, CapSet grantable,
                         std::unique_ptr<AuditGate> audit_gate)
    : BasicService(core),
      audit_gate_(std::move(audit_gate)),
      grants_(std::move(grants)),
      spawns_(std::move(spawns)),
      grantable_(grantable),
      maintenance_([this] { Maintain(); }) {}

CapdService::~CapdService() {
  stop_.Notify();
  maintenance_.join();
}

MethodTable CapdService::AccessTable() {
  MethodTable t = BasicMethods();
  t["GetProcessCapabilities"] = Access::kRead;
  t["Audit"] = Access::kRead;
  t["ListGrants"] = Access::kRead;
  t["ListSpawns"] = Access::kRead;
  t["GrantCapabilities"] = Access::kAdmin;
  t["RevokeGrant"] = Access::kAdmin;
  t["Authorize"] = Access::kPeer;
  t["Spawn"] = Access::kPeer;
  t["Signal"] = Access::kPeer;
  t["Watch"] = Access::kPeer;
  t["CheckDrift"] = Access::kPeer;
  return t;
}

void CapdService::Publish(EventKind kind, common::v1::Severity severity,
                          const std::string& principal, const std::string& message,
                          CapabilityEvent details, const std::string& trace_id) {
  common::v1::Event e;
  e.set_kind(kind);
  e.set_severity(severity);
  e.set_message(message);
  e.set_trace_id(trace_id);
  e.mutable_principal()->set_id(principal);
  *e.mutable_capability() = std::move(details);
  core()->events().Publish(std::move(e));
}

absl::Duration CapdService::DriftInterval() const {
  return absl::Seconds(core()->config().Get<v1::CapdConfig>()->drift_check_interval_seconds());
}

void CapdService::Maintain() {
  while (!stop_.WaitForNotificationWithTimeout(DriftInterval())) {
    absl::StatusOr<std::vector<GrantRecord>> expired = grants_->Expire();
    if (!expired.ok()) {
      Log(LogLevel::kError, "could not expire leases", {{"error", std::string(expired.status().message())}});
    } else {
      for (const GrantRecord& g : *expired) {
        CapabilityEvent d;
        d.set_principal(g.principal);
        d.set_capabilities(g.caps.ToString());
        Publish(common::v1::EVENT_KIND_GRANT_EXPIRED, common::v1::SEVERITY_NOTICE, g.principal,
                absl::StrCat("lease of ", g.principal, " expired"), d);
        ApplyRevocation(g, "its grant's lease expired");
      }
    }
    spawns_->CheckDrift();
  }
}

grpc::Status CapdService::GetProcessCapabilities(grpc::ServerContext* ctx,
                                                 const v1::GetProcessCapabilitiesRequest* request,
                                                 v1::ProcessCapabilities* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (!request->has_pid()) return ToGrpcStatus(absl::InvalidArgumentError("pid: required"));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(ProcStatus status, ReadProcStatus(request->pid()));
  *response = ToProto(status);
  if (std::optional<v1::SpawnInfo> spawn = spawns_->FindByPid(status.pid);
      spawn && spawn->start_time() == status.start_time) {
    response->set_spawn_id(spawn->id());
    response->set_principal(spawn->principal());
    if (auto bits = spawns_->SecurebitsOf(status.pid)) {
      *response->mutable_securebits() = SecurebitsProto(*bits);
    }
  }
  return grpc::Status::OK;
}

grpc::Status CapdService::Audit(grpc::ServerContext* ctx, const v1::AuditRequest*,
                                v1::AuditResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (proc == nullptr) return ToGrpcStatus(ErrnoToStatus(errno, "opendir /proc"));
  std::vector<pid_t> pids;
  while (dirent* e = ::readdir(proc.get())) {
    pid_t pid;
    if (absl::SimpleAtoi(e->d_name, &pid)) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  for (pid_t pid : pids) {
    absl::StatusOr<ProcStatus> st = ReadProcStatus(pid);
    if (!st.ok()) continue;  // Gone since readdir.
    const CapSet held = st->effective.Union(st->permitted).Union(st->ambient);
    if (held.empty()) continue;
    v1::AuditEntry* entry = response->add_entries();
    *entry->mutable_process() = ToProto(*st);
    std::string principal = UidPrincipal(st->uids[0]);
    if (std::optional<v1::SpawnInfo> spawn = spawns_->FindByPid(pid);
        spawn && spawn->start_time() == st->start_time) {
      principal = spawn->principal();
      entry->mutable_process()->set_spawn_id(spawn->id());
      entry->mutable_process()->set_principal(principal);
    }
    std::optional<GrantRecord> grant = grants_->Find(principal);
    const CapSet declared = grant ? grant->caps : CapSet();
    if (grant) entry->set_grant_principal(principal);
    *entry->mutable_beyond_grant() = ToProto(held.Minus(declared));
    *entry->mutable_declared_not_effective() = ToProto(declared.Minus(st->effective));
  }
  return grpc::Status::OK;
}

grpc::Status CapdService::GrantCapabilities(grpc::ServerContext* ctx, const v1::GrantRequest* request,
                                            v1::Grant* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  GrantRecord record;
  absl::Status valid = ParsePrincipalAndCaps(request->principal(), request->capabilities(),
                                             &record.principal, &record.caps);
  if (request->has_ttl_seconds() && (request->ttl_seconds() == 0 || request->ttl_seconds() > (1ull << 40))) {
    valid = absl::InvalidArgumentError(absl::StrCat(
        valid.ok() ? "" : absl::StrCat(valid.message(), "; "),
        "ttl_seconds: must be from 1 to 2^40 when set, got ", request->ttl_seconds()));
  }
  if (valid.ok() && !record.caps.IsSubsetOf(grantable_)) {
    valid = absl::InvalidArgumentError(absl::StrCat(
        "capabilities: ", record.caps.Minus(grantable_).ToString(),
        " not in capd's grantable_capabilities (capd.conf); capd cannot hand it out"));
  }
  if (!valid.ok()) return ToGrpcStatus(valid);
  if (absl::Status audited = CheckRequiredAudit(record.principal, "grant"); !audited.ok()) {
    return ToGrpcStatus(audited);
  }
  record.created = absl::Now();
  if (request->has_ttl_seconds()) {
    record.expires = record.created + absl::Seconds(request->ttl_seconds());
  }
  record.on_revoke = request->on_revoke() == v1::REVOKE_ACTION_UNSPECIFIED
                         ? v1::REVOKE_ACTION_REPORT
                         : request->on_revoke();
  record.granted_by = CallerPrincipal(caller);
  if (absl::Status s = grants_->Put(record); !s.ok()) return ToGrpcStatus(s);
  CapabilityEvent d;
  d.set_principal(record.principal);
  d.set_capabilities(record.caps.ToString());
  d.set_granted_by(record.granted_by);
  // The grantee is the event's principal: what it later does is correlated by principal.
  Publish(common::v1::EVENT_KIND_CAPABILITY_GRANTED, common::v1::SEVERITY_NOTICE, record.principal,
          absl::StrCat(record.principal, " granted ", record.caps.ToString(),
                       record.expires ? absl::StrCat(" for ", request->ttl_seconds(), "s") : ""),
          d);
  *response = record.ToProto();
  return grpc::Status::OK;
}

absl::Status CapdService::CheckRequiredAudit(const std::string& principal, const std::string& what) {
  if (!core()->config().Get<v1::CapdConfig>()->required_audit()) return absl::OkStatus();
  absl::Status ready = audit_gate_->Ready();
  if (ready.ok()) return ready;
  CapabilityEvent d;
  d.set_principal(principal);
  d.set_reason(std::string(ready.message()));
  Publish(common::v1::EVENT_KIND_CAPABILITY_DENIED, common::v1::SEVERITY_WARNING, principal,
          absl::StrCat(what, " for ", principal, " refused: ", ready.message()), d);
  return absl::FailedPreconditionError(absl::StrCat(what, " refused: ", ready.message()));
}

void CapdService::ApplyRevocation(const GrantRecord& grant, const std::string& why) {
  std::vector<std::string> ids = spawns_->MarkGrantRevoked(grant.principal, why);
  for (const std::string& id : ids) {
    CapabilityEvent d;
    d.set_principal(grant.principal);
    d.set_spawn_id(id);
    d.set_capabilities(grant.caps.ToString());
    d.set_reason(why);
    Publish(common::v1::EVENT_KIND_CAPABILITY_DRIFT, common::v1::SEVERITY_WARNING, grant.principal,
            absl::StrCat("spawn ", id, " still holds capabilities: ", why), d);
    if (grant.on_revoke == v1::REVOKE_ACTION_RESTART) {
      Publish(common::v1::EVENT_KIND_RESTART_REQUESTED, common::v1::SEVERITY_WARNING,
              grant.principal, absl::StrCat("restart spawn ", id, ": ", why), d);
    } else if (grant.on_revoke == v1::REVOKE_ACTION_KILL) {
      absl::Status s = spawns_->Signal(id, SIGKILL);
      Log(s.ok() ? LogLevel::kInfo : LogLevel::kWarning, "killed spawn after revocation",
          {{"spawn", id}, {"result", s.ToString()}});
    }
  }
}

grpc::Status CapdService::RevokeGrant(grpc::ServerContext* ctx, const v1::RevokeRequest* request,
                                      v1::RevokeResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (request->principal().empty()) return ToGrpcStatus(absl::InvalidArgumentError("principal: required"));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(std::string principal, ParsePrincipal(request->principal()));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(GrantRecord removed, grants_->Remove(principal));
  CapabilityEvent d;
  d.set_principal(principal);
  d.set_capabilities(removed.caps.ToString());
  d.set_granted_by(CallerPrincipal(caller));
  Publish(common::v1::EVENT_KIND_CAPABILITY_REVOKED, common::v1::SEVERITY_NOTICE, principal,
          absl::StrCat("grant of ", principal, " revoked by ", CallerPrincipal(caller)), d);
  const std::string why = absl::StrCat("its grant was revoked by ", CallerPrincipal(caller),
                                       "; a running process cannot lose capabilities from outside");
  ApplyRevocation(removed, why);
  *response->mutable_grant() = removed.ToProto();
  for (const v1::SpawnInfo& s : spawns_->List()) {
    if (s.principal() == principal && s.state() == v1::SPAWN_STATE_RUNNING) {
      response->add_drifted_spawns(s.id());
    }
  }
  return grpc::Status::OK;
}

grpc::Status CapdService::ListGrants(grpc::ServerContext* ctx, const v1::ListGrantsRequest*,
                                     v1::ListGrantsResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  for (const GrantRecord& g : grants_->List()) *response->add_grants() = g.ToProto();
  return grpc::Status::OK;
}

grpc::Status CapdService::Authorize(grpc::ServerContext* ctx, const v1::AuthorizeRequest* request,
                                    v1::AuthorizeResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  std::string principal;
  CapSet wanted;
  if (absl::Status s = ParsePrincipalAndCaps(request->principal(), request->capabilities(),
                                             &principal, &wanted);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  std::optional<GrantRecord> grant = grants_->Find(principal);
  const CapSet defaults = ContainerDefaults(principal);
  const CapSet missing = wanted.Minus(grant ? grant->caps : CapSet()).Minus(defaults);
  response->set_allowed(missing.empty());
  *response->mutable_missing() = ToProto(missing);
  if (missing.empty()) {
    response->set_rule(wanted.IsSubsetOf(defaults)
                           ? absl::StrCat("container_default_capabilities cover ", wanted.ToString())
                           : absl::StrCat("the grant of ", principal,
                                          defaults.empty() ? "" : " and container_default_capabilities",
                                          " cover ", wanted.ToString()));
    CapabilityEvent d;
    d.set_principal(principal);
    d.set_capabilities(wanted.ToString());
    d.set_reason(response->rule());
    Publish(common::v1::EVENT_KIND_CAPABILITY_AUTHORIZED, common::v1::SEVERITY_INFO, principal,
            absl::StrCat(principal, " may use ", wanted.ToString(), " (asked by ", CallerPrincipal(caller),
                         "): ", response->rule()),
            d, request->trace_id());
    return grpc::Status::OK;
  }
  response->set_rule(grant ? absl::StrCat("the grant of ", principal, " does not cover ",
                                          missing.ToString())
                           : absl::StrCat("no grant in force for ", principal));
  CapabilityEvent d;
  d.set_principal(principal);
  d.set_capabilities(wanted.ToString());
  d.set_reason(response->rule());
  Publish(common::v1::EVENT_KIND_CAPABILITY_DENIED, common::v1::SEVERITY_WARNING, principal,
          absl::StrCat("authorization refused: ", response->rule()), d, request->trace_id());
  return grpc::Status::OK;
}

absl::StatusOr<CapSet> CapdService::CheckSpawnPolicy(const v1::SpawnRequest& request,
                                                     const CapSet& caps, const Caller& caller) {
  const std::string principal = *ParsePrincipal(request.principal());
  std::optional<GrantRecord> grant = grants_->Find(principal);
  std::string refusal;
  if (!caps.IsSubsetOf(grantable_)) {
    refusal = absl::StrCat(caps.Minus(grantable_).ToString(),
                           " is not in capd's grantable_capabilities");
  } else if (caps.empty()) {
    // Nothing to cover: a process without capabilities needs no grant.
  } else if (!grant) {
    refusal = absl::StrCat("no grant in force for ", principal,
                           " (none was made, it was revoked, or its lease expired)");
  } else if (!caps.IsSubsetOf(grant->caps)) {
    refusal = absl::StrCat("the grant of ", principal, " does not cover ",
                           caps.Minus(grant->caps).ToString());
  } else if (principal.rfind("uid:", 0) == 0 && principal != UidPrincipal(request.uid())) {
    refusal = absl::StrCat("a grant to ", principal, " covers only processes running as that uid, "
                           "not uid ", request.uid());
  }
  if (refusal.empty()) return caps;
  CapabilityEvent d;
  d.set_principal(principal);
  d.set_capabilities(caps.ToString());
  d.set_reason(refusal);
  Publish(common::v1::EVENT_KIND_CAPABILITY_DENIED, common::v1::SEVERITY_WARNING, principal,
          absl::StrCat("spawn refused for ", CallerPrincipal(caller), ": ", refusal), d,
          request.trace_id());
  return absl::PermissionDeniedError(absl::StrCat("spawn refused: ", refusal));
}

grpc::Status CapdService::Spawn(grpc::ServerContext* ctx, const v1::SpawnRequest* request,
                                grpc::ServerWriter<v1::SpawnEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(SpawnPlan plan, BuildSpawnPlan(*request));
  SECUREOS_ASSIGN_OR_RETURN_GRPC(CapSet caps, CheckSpawnPolicy(*request, plan.caps, caller));
  if (absl::Status audited = CheckRequiredAudit(plan.principal, "spawn"); !audited.ok()) {
    return ToGrpcStatus(audited);
  }
  spawns_->BeginLaunch();
  absl::Cleanup launched = [this] { spawns_->EndLaunch(); };
  SECUREOS_ASSIGN_OR_RETURN_GRPC(LaunchedProcess process, Launch(plan));
  const pid_t pid = process.pid;
  SECUREOS_ASSIGN_OR_RETURN_GRPC(std::string id, spawns_->Add(std::move(process), plan));
  std::move(launched).Invoke();
  CapabilityEvent d;
  d.set_principal(plan.principal);
  d.set_capabilities(caps.ToString());
  d.set_spawn_id(id);
  d.set_pid(pid);
  Publish(common::v1::EVENT_KIND_SPAWN_STARTED, common::v1::SEVERITY_INFO, plan.principal,
          absl::StrCat("spawned ", plan.argv[0], " as uid ", plan.uid, " with [", caps.ToString(),
                       "] for ", CallerPrincipal(caller), " (spawn ", id, ", pid ", pid, ")"),
          d, request->trace_id());
  return ToGrpcStatus(spawns_->Follow(
      id, [writer](const v1::SpawnEvent& e) { return writer->Write(e); },
      [ctx] { return ctx->IsCancelled(); }));
}

grpc::Status CapdService::Signal(grpc::ServerContext* ctx, const v1::SignalRequest* request,
                                 v1::SignalResponse*) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  FieldErrors errors;
  RequireFields(*request, {"id", "signal"}, "", &errors);
  if (request->has_signal() && (request->signal() < 1 || request->signal() > 64)) {
    errors.Add("signal", absl::StrCat("must be 1-64, got ", request->signal()));
  }
  if (!errors.empty()) return ToGrpcStatus(errors.ToStatus());
  return ToGrpcStatus(spawns_->Signal(request->id(), request->signal()));
}

grpc::Status CapdService::Watch(grpc::ServerContext* ctx, const v1::WatchRequest* request,
                                grpc::ServerWriter<v1::SpawnEvent>* writer) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  if (request->id().empty()) return ToGrpcStatus(absl::InvalidArgumentError("id: required"));
  return ToGrpcStatus(spawns_->Follow(
      request->id(), [writer](const v1::SpawnEvent& e) { return writer->Write(e); },
      [ctx] { return ctx->IsCancelled(); }));
}

grpc::Status CapdService::ListSpawns(grpc::ServerContext* ctx, const v1::ListSpawnsRequest*,
                                     v1::ListSpawnsResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  for (v1::SpawnInfo& s : spawns_->List()) *response->add_spawns() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status CapdService::CheckDrift(grpc::ServerContext* ctx, const v1::CheckDriftRequest*,
                                     v1::CheckDriftResponse* response) {
  SECUREOS_ASSIGN_OR_RETURN_GRPC(Caller caller, core()->Authorize(ctx));
  for (v1::SpawnInfo& s : spawns_->CheckDrift()) *response->add_drifted() = std::move(s);
  return grpc::Status::OK;
}

}  // namespace secureos::capd
