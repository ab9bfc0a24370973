// Grants: which principal may hold which capabilities, optionally until a lease expires.
//
// Contract: every change is persisted atomically to <state_dir>/grants.textproto before it
// is visible; if persisting fails the store is unchanged and the error is returned (nothing
// is half-applied). Expired grants are never returned by Find/List; Expire() removes them.
#ifndef SECUREOS_CAPD_GRANT_STORE_H_
#define SECUREOS_CAPD_GRANT_STORE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cap_set.h"
#include "proto/capd.pb.h"

namespace secureos::capd {

struct GrantRecord {
  std::string principal;
  CapSet caps;
  absl::Time created;
  std::optional<absl::Time> expires;
  v1::RevokeAction on_revoke = v1::REVOKE_ACTION_REPORT;
  std::string granted_by;

  v1::Grant ToProto() const;
};

class GrantStore {
 public:
  using Clock = std::function<absl::Time()>;

  // Loads the grants file in `state_dir` (created 0700 if missing).
  static absl::StatusOr<std::unique_ptr<GrantStore>> Open(const std::string& state_dir,
                                                          Clock clock = absl::Now);

  // Creates or replaces the grant of record.principal.
  absl::Status Put(const GrantRecord& record);
  // Removes and returns a principal's grant (expired or not); NOT_FOUND when there is none.
  absl::StatusOr<GrantRecord> Remove(const std::string& principal);
  // The grant in force for `principal`.
  std::optional<GrantRecord> Find(const std::string& principal) const;
  // Every grant in force, by principal.
  std::vector<GrantRecord> List() const;
  // Removes the grants whose lease has ended and returns them.
  absl::StatusOr<std::vector<GrantRecord>> Expire();

 private:
  GrantStore(std::string path, Clock clock) : path_(std::move(path)), clock_(std::move(clock)) {}
  absl::Status Load();
  absl::Status Persist(const std::map<std::string, GrantRecord>& grants) const;
  bool Live(const GrantRecord& r) const { return !r.expires || *r.expires > clock_(); }

  const std::string path_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, GrantRecord> grants_ ABSL_GUARDED_BY(mu_);
};

// CapabilitySet proto of a CapSet.
v1::CapabilitySet ToProto(const CapSet& caps);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_GRANT_STORE_H_
