#include "capd/grant_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "capd/principal.h"
#include "common/atomic_file.h"
#include "common/config_loader.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"

namespace secureos::capd {

using google::protobuf::util::TimeUtil;

namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

absl::StatusOr<GrantRecord> FromProto(const v1::Grant& g) {
  GrantRecord r;
  SECUREOS_ASSIGN_OR_RETURN(r.principal, ParsePrincipal(g.principal()));
  uint64_t mask;
  if (!absl::SimpleHexAtoi(g.capabilities().hex(), &mask)) {
    return absl::InvalidArgumentError(
        absl::StrCat("grant of ", g.principal(), ": capabilities.hex: not hex"));
  }
  r.caps = CapSet::FromMask(mask);
  r.created = FromTimestamp(g.created());
  if (g.has_expires()) r.expires = FromTimestamp(g.expires());
  r.on_revoke = g.on_revoke();
  r.granted_by = g.granted_by();
  return r;
}

}  // namespace

v1::CapabilitySet ToProto(const CapSet& caps) {
  v1::CapabilitySet out;
  for (int cap = 0; cap < 64; ++cap) {
    if (caps.Has(cap)) out.add_names(CapSet::Name(cap));
  }
  out.set_hex(caps.Hex());
  return out;
}

v1::Grant GrantRecord::ToProto() const {
  v1::Grant g;
  g.set_principal(principal);
  *g.mutable_capabilities() = capd::ToProto(caps);
  *g.mutable_created() = ToTimestamp(created);
  if (expires) *g.mutable_expires() = ToTimestamp(*expires);
  g.set_on_revoke(on_revoke);
  g.set_granted_by(granted_by);
  return g;
}

absl::StatusOr<std::unique_ptr<GrantStore>> GrantStore::Open(const std::string& state_dir,
                                                             Clock clock) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(state_dir, 0700));
  std::unique_ptr<GrantStore> store(new GrantStore(state_dir + "/grants.textproto", std::move(clock)));
  SECUREOS_RETURN_IF_ERROR(store->Load());
  return store;
}

absl::Status GrantStore::Load() {
  v1::GrantsState state;
  absl::Status s = LoadConfigFile(path_, &state, nullptr);
  if (absl::IsNotFound(s)) return absl::OkStatus();
  SECUREOS_RETURN_IF_ERROR(s);
  absl::MutexLock lock(&mu_);
  for (const v1::Grant& g : state.grants()) {
    absl::StatusOr<GrantRecord> r = FromProto(g);
    if (!r.ok()) return Annotate(r.status(), path_);
    grants_[r->principal] = *r;
  }
  return absl::OkStatus();
}

absl::Status GrantStore::Persist(const std::map<std::string, GrantRecord>& grants) const {
  v1::GrantsState state;
  for (const auto& [principal, record] : grants) *state.add_grants() = record.ToProto();
  std::string text;
  google::protobuf::TextFormat::PrintToString(state, &text);
  return WriteFileAtomically(path_, "# capd grants; written by capd, do not edit while it runs.\n" + text);
}

absl::Status GrantStore::Put(const GrantRecord& record) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, GrantRecord> next = grants_;
  next[record.principal] = record;
  SECUREOS_RETURN_IF_ERROR(Persist(next));
  grants_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<GrantRecord> GrantStore::Remove(const std::string& principal) {
  absl::MutexLock lock(&mu_);
  auto it = grants_.find(principal);
  if (it == grants_.end()) {
    return absl::NotFoundError(absl::StrCat("principal: no grant for ", principal));
  }
  std::map<std::string, GrantRecord> next = grants_;
  next.erase(principal);
  SECUREOS_RETURN_IF_ERROR(Persist(next));
  GrantRecord removed = it->second;
  grants_ = std::move(next);
  return removed;
}

std::optional<GrantRecord> GrantStore::Find(const std::string& principal) const {
  absl::MutexLock lock(&mu_);
  auto it = grants_.find(principal);
  if (it == grants_.end() || !Live(it->second)) return std::nullopt;
  return it->second;
}

std::vector<GrantRecord> GrantStore::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<GrantRecord> out;
  for (const auto& [principal, record] : grants_) {
    if (Live(record)) out.push_back(record);
  }
  return out;
}

absl::StatusOr<std::vector<GrantRecord>> GrantStore::Expire() {
  absl::MutexLock lock(&mu_);
  std::vector<GrantRecord> expired;
  std::map<std::string, GrantRecord> next;
  for (const auto& [principal, record] : grants_) {
    if (Live(record)) {
      next[principal] = record;
    } else {
      expired.push_back(record);
    }
  }
  if (expired.empty()) return expired;
  SECUREOS_RETURN_IF_ERROR(Persist(next));
  grants_ = std::move(next);
  return expired;
}

}  // namespace secureos::capd
