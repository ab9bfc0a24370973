#include "containerd-lite/oci_identity.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace secureos::ctr {
namespace {

using containerd_lite::v1::IdMapping;
namespace sbx = sandboxd::v1;

// An error on `field` unless `m` maps the container id `id`.
void CheckMapped(uint32_t id, const IdMapping& m, const char* field, const char* what,
                 OciReport* report) {
  if (id < m.container_id() || id - m.container_id() >= m.size()) {
    report->Error(field, absl::StrCat(id, " is not mapped by the container's ", what, " range (",
                                      m.container_id(), "-",
                                      uint64_t{m.container_id()} + m.size() - 1, ")"));
  }
}

}  // namespace

absl::Status CheckIdMapping(const IdMapping& m, absl::string_view name) {
  const uint64_t limit = uint64_t{1} << 32;
  if (m.size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": size must be at least 1"));
  }
  if (uint64_t{m.container_id()} + m.size() > limit || uint64_t{m.host_id()} + m.size() > limit) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": the range passes 2^32"));
  }
  return absl::OkStatus();
}

void TranslateIdentity(const oci::v1::User& user, const IdMapping& uid_map,
                       const IdMapping& gid_map, sbx::SandboxSpec* spec, OciReport* report) {
  for (auto [map, out] : {std::pair{&uid_map, spec->add_uid_map()},
                          std::pair{&gid_map, spec->add_gid_map()}}) {
    out->set_inside(map->container_id());
    out->set_outside(map->host_id());
    out->set_count(map->size());
  }
  CheckMapped(user.uid(), uid_map, "process.user.uid", "uid", report);
  CheckMapped(user.gid(), gid_map, "process.user.gid", "gid", report);
  spec->set_uid(user.uid());
  spec->set_gid(user.gid());
  if (!user.additional_gids().empty()) {
    report->Error("process.user.additionalGids",
                  absl::StrCat("[", absl::StrJoin(user.additional_gids(), ", "),
                               "]: supplementary groups are not supported (sandboxd clears "
                               "them)"));
  }
  if (user.has_umask()) {
    report->Error("process.user.umask",
                  absl::StrCat(user.umask(), ": not supported (sandboxd sets no umask of its "
                                             "own, the process inherits sandboxd's)"));
  }
}

}  // namespace secureos::ctr
