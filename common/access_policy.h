// Per-method authorization: who may call what.
//
// Every RPC of every daemon is one of three access classes. A daemon declares a MethodTable
// naming the class of each of its methods; the table must cover the service exactly
// (CheckMethodTable), so a method added without a rule keeps the daemon from starting.
//
//   read   health, version, queries: anyone allowed by server.reader_uids (empty: anyone
//          who can open the socket, which its mode already restricts)
//   peer   calls between daemons (Subscribe, Authorize, ...): uids in server.peer_uids
//   admin  changes: uid 0, uids in server.admin_uids, callers whose gid is in admin_gids
//
// admin implies peer implies read. Identity comes from SO_PEERCRED, read by the kernel at
// connect time; it cannot be forged by the caller.
#ifndef SECUREOS_COMMON_ACCESS_POLICY_H_
#define SECUREOS_COMMON_ACCESS_POLICY_H_

#include <sys/types.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "proto/common.pb.h"

namespace secureos {

enum class Access { kRead, kPeer, kAdmin };

absl::string_view AccessName(Access access);

// The kernel's view of the process at the other end of a connection.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// Short method name ("Reload") -> access class.
using MethodTable = absl::flat_hash_map<std::string, Access>;

// OK when `table` names every method of `service` and nothing else.
absl::Status CheckMethodTable(const google::protobuf::ServiceDescriptor& service,
                              const MethodTable& table);

struct Decision {
  bool allowed = false;
  Access required = Access::kAdmin;
  // Why, in words: "uid 0 is root", "uid 65534 is not root, not in server.admin_uids, ...".
  std::string rule;
};

// Decides with the server block of the configuration in force; thread-safe, updated on
// reload.
class AccessPolicy {
 public:
  explicit AccessPolicy(const common::v1::ServerConfig& config) { Update(config); }

  void Update(const common::v1::ServerConfig& config);
  Decision Decide(Access required, const PeerCredentials& caller) const;

 private:
  mutable absl::Mutex mu_;
  common::v1::ServerConfig config_ ABSL_GUARDED_BY(mu_);
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_ACCESS_POLICY_H_
