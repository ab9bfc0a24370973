// The UID/GID range authority of containerd-lite.
//
// Every container runs in a user namespace whose host ids come from a pool configured in
// /etc/subuid-style files (ContainerdLiteConfig.subuid_file / subgid_file). There is one
// IdRangePool per id kind: one for uids, one for gids (both may be built from the same lines).
//
// A container gets its ids in one of two ways:
//   Allocate  the pool picks the first free host range of the configured size (65536 by
//             default) and maps container ids 0..size-1 onto it;
//   Reserve   the caller gives explicit mappings (a bundle's linux.uidMappings, say) and the
//             pool validates them.
// The rules every container's host ids obey, whichever way they were obtained:
//   - count is at least 1, and start + count stays within the 32-bit id space on both the
//     container and the host side: at most 4294967295, since that id is (uid_t)-1, which no
//     process can hold and the kernel refuses in a map;
//   - no host range contains a forbidden host id: 0 (root), 65534 (nobody / nogroup, the
//     kernel's overflow id) and those the caller adds (the daemons' own uids or gids); a
//     container holding one could act as that user on the host;
//   - host ranges lie inside the pool, unless reserved with allow_outside_pool;
//   - host ranges overlap no other container's host ranges;
//   - within one container, neither the container ranges nor the host ranges overlap each
//     other (the kernel refuses such a map since Linux 4.15), and there are at most 340
//     mappings (user_namespaces(7)).
// Errors name the field and the range and report every problem at once, e.g.
//   INVALID_ARGUMENT "uid_mappings[1]: host range 100000-165535 overlaps container \"web\"
//                     (100000-165535); uid_mappings[2].count: must be at least 1"
// and a refused request changes nothing.
//
// Persistence: Snapshot() and Restore() give and take the whole state (proto/id_ranges.proto);
// Save() and Load() keep it in a file. The pool never writes on its own: the daemon calls Save
// after every Allocate, Reserve and Release, before it reports success (and undoes the change
// when Save fails), so that ranges are released on delete and survive restarts.
//
// Thread-safe: every method may be called from any thread.
#ifndef SECUREOS_CONTAINERD_LITE_ID_RANGE_POOL_H_
#define SECUREOS_CONTAINERD_LITE_ID_RANGE_POOL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/atomic_file.h"
#include "proto/id_ranges.pb.h"

namespace secureos {
class FieldErrors;
class FieldLocations;
}  // namespace secureos

namespace secureos::ctr {

namespace v1 = ::secureos::containerd_lite::v1;

// One past the last valid id: 4294967295 is (uid_t)-1, never an id. No range may reach it.
inline constexpr uint64_t kIdLimit = 0xFFFFFFFFull;

// A run of `count` consecutive ids from `start`. Plain data: any value can be held (an empty
// or wrapping range too); validation is the pool's.
struct IdRange {
  uint32_t start = 0;
  uint32_t count = 0;

  // One past the last id, in 64 bits, so that a range wrapping past 2^32 shows as such.
  uint64_t end() const { return uint64_t{start} + count; }
  bool Contains(uint32_t id) const { return id >= start && id < end(); }
  // Whether the two ranges share an id (an empty range shares none).
  bool Overlaps(const IdRange& other) const;
  // "start-last", both inclusive: "100000-165535"; "100000+0" for an empty range.
  std::string ToString() const;

  friend bool operator==(const IdRange& a, const IdRange& b) {
    return a.start == b.start && a.count == b.count;
  }
};

// One line of a subuid/subgid file.
struct SubIdRange {
  std::string name;    // The line's first field (a user name or uid in /etc/subuid).
  IdRange range;       // Its start and count.
  std::string origin;  // Where it was read, "source:line"; may be empty.
};

// Parses /etc/subuid-style text, one "name:start:count" per line, into the pool's ranges in
// file order. Blank lines and comments (from "#" to the end of a line) are allowed. Every bad
// line is reported, each as "source:line: what is wrong" (INVALID_ARGUMENT): a field count
// other than three, an empty name, a start or count that is not a decimal 32-bit number, a
// count of 0, a range that reaches 4294967295 or wraps past 2^32, a range overlapping an
// earlier line's. Lines may repeat a name (a user may own several ranges).
absl::StatusOr<std::vector<SubIdRange>> ParseSubIdLines(absl::string_view text,
                                                        absl::string_view source_name);

// One line of a user namespace map (uid_map(5)): `count` ids from `container_start` inside the
// container are the host ids from `host_start`.
struct IdMapping {
  uint32_t container_start = 0;
  uint32_t host_start = 0;
  uint32_t count = 0;

  IdRange container_range() const { return IdRange{container_start, count}; }
  IdRange host_range() const { return IdRange{host_start, count}; }

  friend bool operator==(const IdMapping& a, const IdMapping& b) {
    return a.container_start == b.container_start && a.host_start == b.host_start &&
           a.count == b.count;
  }
};

// A host id no container may hold, and whose it is ("capd", "root"): errors say
// "host uid 998 (capd)".
struct ForbiddenId {
  uint32_t id = 0;
  std::string why;
};

enum class IdKind { kUid, kGid };

// "uid" or "gid".
absl::string_view IdKindName(IdKind kind);

struct IdRangePoolOptions {
  // Names the pool in messages ("uid pool"), its ids ("host uid 0"), the default field of
  // Reserve's mappings ("uid_mappings") and the state ("pool: \"uid\"").
  IdKind kind = IdKind::kUid;
  // The pool, usually from ParseSubIdLines. Ranges must be valid and must not overlap. May be
  // empty: then only reservations with allow_outside_pool succeed.
  std::vector<SubIdRange> ranges;
  // Host ids no container may hold besides 0 and 65534, which are always forbidden: the
  // daemons' own uids (or gids). Pool ranges may contain them; they are never handed out.
  std::vector<ForbiddenId> forbidden;
  // Ids per container given by Allocate. 1 to 4294967295.
  uint32_t range_size = 65536;
};

// How Reserve treats a request.
struct ReserveOptions {
  // Accept host ranges that are not inside the pool (ContainerdLiteConfig.allow_host_ids, a
  // policy exception). Every other rule still holds: forbidden ids stay forbidden and ranges
  // still may not overlap another container's. Such a reservation is recorded as such, and
  // Restore accepts its ranges outside the pool again.
  bool allow_outside_pool = false;
  // Field path of the mappings in errors ("linux.uidMappings"); empty: "uid_mappings" or
  // "gid_mappings" after the pool's kind.
  std::string field;
};

class IdRangePool {
 public:
  // The ids of one kind that a container holds.
  struct Allocation {
    std::vector<IdMapping> mappings;    // In the order given; one when the pool chose.
    bool outside_pool_allowed = false;  // Reserved with allow_outside_pool.
  };

  // A pool with no allocation. INVALID_ARGUMENT (naming the field) when `options` breaks
  // its documented constraints.
  static absl::StatusOr<std::unique_ptr<IdRangePool>> Create(IdRangePoolOptions options);

  // Create, then Restore the state that Save wrote to `path`; a missing file is an empty
  // state (the first start). Errors name the file, and the line when it is known.
  static absl::StatusOr<std::unique_ptr<IdRangePool>> Load(const std::string& path,
                                                           IdRangePoolOptions options);

  IdRangePool(const IdRangePool&) = delete;
  IdRangePool& operator=(const IdRangePool&) = delete;

  // Gives `container_id` the first free run of range_size() host ids (lowest pool range
  // first, lowest id first) that contains no forbidden id and overlaps no other container's,
  // mapped from container id 0. ALREADY_EXISTS when the container holds ids already;
  // RESOURCE_EXHAUSTED, naming the pool, when no such run is left.
  absl::StatusOr<IdMapping> Allocate(const std::string& container_id);

  // Gives `container_id` exactly `mappings` after checking every rule in the file comment;
  // INVALID_ARGUMENT listing all problems ("<field>[i]: ..."), and nothing reserved, when
  // one is broken. ALREADY_EXISTS when the container holds ids already.
  absl::Status Reserve(const std::string& container_id, const std::vector<IdMapping>& mappings,
                       const ReserveOptions& options = {});

  // Returns the container's ids to the pool. NOT_FOUND when it holds none.
  absl::Status Release(const std::string& container_id);

  // The container's ids; nullopt when it holds none.
  std::optional<Allocation> Find(const std::string& container_id) const;

  // Every allocation, by container.
  v1::IdRangesState Snapshot() const;

  // Replaces every allocation with those of `state` (a Snapshot of a pool of the same kind),
  // after checking each against the rules as they stand now: a pool or forbidden-id list
  // changed since the snapshot can make it invalid. INVALID_ARGUMENT listing every problem
  // ("allocations[i].mappings[j]: ..."), and nothing changed, when one is broken.
  absl::Status Restore(const v1::IdRangesState& state);

  // Writes Snapshot() to `path` in protobuf text format, atomically and durably
  // (WriteFileAtomically, mode 0600), which Load reads back; a name ending in ".json" would be
  // read as JSON, so use another (uid_ranges.textproto). The directory must exist. Concurrent Saves write
  // their snapshots in the order they were taken, so the last one written is the newest.
  // `durability`: kProcessCrash where the ranges describe only live containers (a state
  // directory on tmpfs, which a reboot empties with them).
  absl::Status Save(const std::string& path, Durability durability = Durability::kPowerLoss) const;

  IdKind kind() const { return kind_; }
  uint32_t range_size() const { return range_size_; }
  // The pool's ranges, by start.
  const std::vector<SubIdRange>& ranges() const { return ranges_; }

 private:
  using Allocations = std::map<std::string, Allocation>;

  IdRangePool(IdKind kind, std::vector<SubIdRange> ranges, std::vector<ForbiddenId> forbidden,
              uint32_t range_size);

  // Adds to `errors` every rule `mappings` breaks as the ids of a container beside
  // `others`; `field` is the path of the mappings.
  void Validate(absl::string_view field, const std::vector<IdMapping>& mappings,
                bool allow_outside_pool, const Allocations& others,
                FieldErrors* errors) const;
  // The host-side rules for the valid-shaped mapping at `field`.
  void ValidateHostRange(const std::string& field, const IdRange& host, bool allow_outside_pool,
                         const Allocations& others, FieldErrors* errors) const;
  bool InPool(const IdRange& range) const;
  std::optional<uint32_t> FirstFit(const Allocations& allocations) const;
  // "uid pool (name:100000-165535 (/etc/subuid:1), ...)".
  std::string PoolDescription() const;
  absl::Status RestoreFrom(const v1::IdRangesState& state, absl::string_view file,
                           const FieldLocations* locations);

  const IdKind kind_;
  const std::vector<SubIdRange> ranges_;       // By start; they do not overlap.
  const std::vector<ForbiddenId> forbidden_;  // By id, each once.
  const uint32_t range_size_;

  // Orders concurrent Saves (taken before mu_).
  mutable absl::Mutex save_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  Allocations allocations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_ID_RANGE_POOL_H_
