#include "containerd-lite/bundle_facts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace secureos::ctr {
namespace {

bool IsBind(const oci::v1::Mount& m) {
  if (m.type() == "bind") return true;
  const auto& o = m.options();
  return std::find(o.begin(), o.end(), "bind") != o.end() || std::find(o.begin(), o.end(), "rbind") != o.end();
}

void Capabilities(const oci::v1::Capabilities& c, ContainerFacts* f) {
  const std::pair<const char*, const google::protobuf::RepeatedPtrField<std::string>*> sets[] = {
      {"bounding", &c.bounding()}, {"effective", &c.effective()}, {"inheritable", &c.inheritable()},
      {"permitted", &c.permitted()}, {"ambient", &c.ambient()}};
  for (const auto& [name, caps] : sets) {
    if (!caps->empty()) f->capabilities[name] = {caps->begin(), caps->end()};
  }
}

}  // namespace

ContainerFacts FactsOf(const oci::v1::Spec& spec) {
  ContainerFacts f;
  for (const oci::v1::Namespace& ns : spec.linux().namespaces()) f.namespaces.insert(ns.type());
  Capabilities(spec.process().capabilities(), &f);
  f.no_new_privileges = spec.process().no_new_privileges();
  f.readonly_root = spec.root().readonly();
  const oci::v1::Memory& memory = spec.linux().resources().memory();
  f.memory_limit = memory.has_limit() && memory.limit() > 0;
  f.seccomp = spec.linux().has_seccomp();
  f.uid = spec.process().user().uid();
  for (int i = 0; i < spec.mounts_size(); ++i) {
    if (IsBind(spec.mounts(i))) f.host_mounts.push_back({absl::StrCat("mounts[", i, "]"), spec.mounts(i).source()});
  }
  return f;
}

}  // namespace secureos::ctr
