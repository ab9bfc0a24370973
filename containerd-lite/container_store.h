// containerd-lite's durable record of its containers: one file per container,
// <dir>/<id>.container.textproto (a ContainerRecord in protobuf text format), replaced
// atomically and durably at every change (common/atomic_file.h), so that a crash leaves the
// old or the new record and a restart loses no container. Ids are checked with
// CheckContainerId before they become file names.
//
// Thread-compatible: the caller orders writes of one container (the manager writes under its
// lock); different containers may be written concurrently.
#ifndef SECUREOS_CONTAINERD_LITE_CONTAINER_STORE_H_
#define SECUREOS_CONTAINERD_LITE_CONTAINER_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/containerd_lite.pb.h"

namespace secureos::ctr {

class ContainerStore {
 public:
  // `dir` must exist (the daemon makes it, mode 0700).
  explicit ContainerStore(std::string dir) : dir_(std::move(dir)) {}

  // Writes the container's record (state.id names it).
  absl::Status Save(const containerd_lite::v1::ContainerState& state) const;
  // Removes it; a record already gone is fine.
  absl::Status Remove(const std::string& id) const;

  struct Loaded {
    std::vector<containerd_lite::v1::ContainerState> containers;  // By id.
    // Files that could not be read or parsed, each "path: what is wrong". They are left in
    // place for an operator to look at; their containers are not known.
    std::vector<std::string> problems;
  };
  // Every record in the directory. Errors only when the directory cannot be read.
  absl::StatusOr<Loaded> LoadAll() const;

  // The record file of `id`.
  std::string PathOf(const std::string& id) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_CONTAINER_STORE_H_
