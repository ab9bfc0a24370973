#include "containerd-lite/container_store.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/atomic_file.h"
#include "common/config_loader.h"
#include "common/fd.h"
#include "common/status.h"
#include "containerd-lite/container_id.h"
#include "google/protobuf/text_format.h"

namespace secureos::ctr {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;

constexpr absl::string_view kSuffix = ".container.textproto";
constexpr size_t kRecordLimit = 1 << 20;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

std::string ContainerStore::PathOf(const std::string& id) const {
  return absl::StrCat(dir_, "/", id, kSuffix);
}

absl::Status ContainerStore::Save(const v1::ContainerState& state) const {
  SECUREOS_RETURN_IF_ERROR(CheckContainerId(state.id(), "state.id"));
  v1::ContainerRecord record;
  *record.mutable_state() = state;
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(record, &text)) {
    return absl::InternalError(absl::StrCat("print the record of container ", state.id()));
  }
  return WriteFileAtomically(PathOf(state.id()), text, 0600);
}

absl::Status ContainerStore::Remove(const std::string& id) const {
  SECUREOS_RETURN_IF_ERROR(CheckContainerId(id));
  const std::string path = PathOf(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoToStatus(errno, "unlink " + path);
  return absl::OkStatus();
}

absl::StatusOr<ContainerStore::Loaded> ContainerStore::LoadAll() const {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(dir_.c_str()));
  if (dir == nullptr) return ErrnoToStatus(errno, "opendir " + dir_);
  Loaded loaded;
  while (const dirent* entry = ::readdir(dir.get())) {
    absl::string_view name = entry->d_name;
    if (!absl::ConsumeSuffix(&name, kSuffix)) continue;
    const std::string path = absl::StrCat(dir_, "/", entry->d_name);
    absl::StatusOr<std::string> text = ReadFile(path, kRecordLimit);
    v1::ContainerRecord record;
    absl::Status s = text.ok() ? ParseConfig(path, *text, &record, nullptr) : text.status();
    if (s.ok() && record.state().id() != name) {
      s = absl::DataLossError(absl::StrCat(path, ": holds container \"", record.state().id(), "\""));
    }
    if (!s.ok()) {
      loaded.problems.push_back(std::string(s.message()));
      continue;
    }
    loaded.containers.push_back(std::move(*record.mutable_state()));
  }
  std::sort(loaded.containers.begin(), loaded.containers.end(),
            [](const v1::ContainerState& a, const v1::ContainerState& b) { return a.id() < b.id(); });
  return loaded;
}

}  // namespace secureos::ctr
