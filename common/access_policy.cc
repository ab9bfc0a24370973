#include "common/access_policy.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace secureos {

absl::string_view AccessName(Access access) {
  switch (access) {
    case Access::kRead:
      return "read";
    case Access::kPeer:
      return "peer";
    case Access::kAdmin:
      return "admin";
  }
  return "admin";
}

absl::Status CheckMethodTable(const google::protobuf::ServiceDescriptor& service,
                              const MethodTable& table) {
  std::vector<std::string> missing;
  for (int i = 0; i < service.method_count(); ++i) {
    if (!table.contains(service.method(i)->name())) missing.push_back(service.method(i)->name());
  }
  std::vector<std::string> extra;
  for (const auto& [name, access] : table) {
    if (service.FindMethodByName(name) == nullptr) extra.push_back(name);
  }
  std::sort(extra.begin(), extra.end());
  if (missing.empty() && extra.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "access table of ", service.full_name(), " does not match the service: no rule for [",
      absl::StrJoin(missing, ", "), "], rules for unknown methods [", absl::StrJoin(extra, ", "),
      "]"));
}

void AccessPolicy::Update(const common::v1::ServerConfig& config) {
  absl::MutexLock lock(&mu_);
  config_ = config;
}

namespace {

template <typename List, typename Id>
bool Contains(const List& list, Id id) {
  return std::find(list.begin(), list.end(), static_cast<uint32_t>(id)) != list.end();
}

// Returns the rule that makes `caller` an admin, or "" when none does.
std::string AdminRule(const common::v1::ServerConfig& c, const PeerCredentials& caller) {
  if (caller.uid == 0) return "uid 0 is root";
  if (Contains(c.admin_uids(), caller.uid)) {
    return absl::StrCat("uid ", caller.uid, " is in server.admin_uids");
  }
  if (Contains(c.admin_gids(), caller.gid)) {
    return absl::StrCat("gid ", caller.gid, " is in server.admin_gids");
  }
  return "";
}

}  // namespace

Decision AccessPolicy::Decide(Access required, const PeerCredentials& caller) const {
  absl::MutexLock lock(&mu_);
  Decision d;
  d.required = required;
  std::string admin = AdminRule(config_, caller);
  if (!admin.empty()) {
    d.allowed = true;
    d.rule = admin;
    return d;
  }
  const bool peer = Contains(config_.peer_uids(), caller.uid);
  switch (required) {
    case Access::kAdmin:
      d.rule = absl::StrCat("admin method: uid ", caller.uid,
                            " is not root and not in server.admin_uids, and gid ", caller.gid,
                            " is not in server.admin_gids");
      return d;
    case Access::kPeer:
      d.allowed = peer;
      d.rule = peer ? absl::StrCat("uid ", caller.uid, " is in server.peer_uids")
                    : absl::StrCat("peer method: uid ", caller.uid,
                                   " is not an admin and not in server.peer_uids");
      return d;
    case Access::kRead:
      if (peer) {
        d.allowed = true;
        d.rule = absl::StrCat("uid ", caller.uid, " is in server.peer_uids");
      } else if (config_.reader_uids().empty()) {
        d.allowed = true;
        d.rule = "server.reader_uids is empty: the socket mode decides who reads";
      } else {
        d.allowed = Contains(config_.reader_uids(), caller.uid);
        d.rule = d.allowed ? absl::StrCat("uid ", caller.uid, " is in server.reader_uids")
                           : absl::StrCat("read method: uid ", caller.uid,
                                          " is not in server.reader_uids");
      }
      return d;
  }
  return d;
}

}  // namespace secureos
