#include "containerd-lite/oci_linux_paths.h"

#include <optional>
#include <utility>

#include "common/absolute_path.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

namespace sbx = sandboxd::v1;

// A masked directory: an empty tmpfs that holds next to nothing.
constexpr char kMaskDirSize[] = "4k";
constexpr char kMaskDirMode[] = "0555";

// A listed path that is in the view.
struct Listed {
  std::string path;  // Normalized.
  Lookup found;      // kFound.
};

// linux.<list>[index] (`field`, whose text is `text`) looked up in the view; nullopt after
// an error, or after a note that it is absent and there is `nothing_to` do.
std::optional<Listed> FindListed(const std::string& field, const std::string& text,
                                 absl::string_view nothing_to, const RootfsView& view,
                                 OciReport* report) {
  std::optional<std::string> path = NormalizeAbsolutePath(text, field, report->errors());
  if (!path) return std::nullopt;
  if (*path == "/") {
    report->Error(field, "\"/\" is the root: use root.readonly");
    return std::nullopt;
  }
  Lookup found = view.Find(*path);
  if (found.state == Lookup::State::kError) {
    report->Error(field, found.error);
    return std::nullopt;
  }
  if (found.state == Lookup::State::kMissing) {
    report->Note(field, absl::StrCat(*path, " does not exist in the container: nothing to ",
                                     nothing_to, " (skipped, as runc does)"));
    return std::nullopt;
  }
  return Listed{*std::move(path), std::move(found)};
}

void AddReadonlyPath(const std::string& field, const std::string& text, const RootfsView& view,
                     sbx::Filesystem* fs, OciReport* report) {
  std::optional<Listed> listed = FindListed(field, text, "make read-only", view, report);
  if (!listed) return;
  const Layer& layer = *listed->found.layer;
  if (layer.read_only) return;  // Already read-only.
  if (listed->found.host_path.empty()) {
    report->Error(field, absl::StrCat(Quote(listed->path), " is on the fresh ", layer.dest,
                                      " mount: sandboxd cannot make part of a tmpfs read-only"));
    return;
  }
  AddEntry(fs, sbx::MOUNT_KIND_RO_BIND, listed->path)->set_source(listed->found.host_path);
}

void AddMaskedPath(const std::string& field, const std::string& text, const RootfsView& view,
                   sbx::Filesystem* fs, OciReport* report) {
  std::optional<Listed> listed = FindListed(field, text, "mask", view, report);
  if (!listed) return;
  if (!listed->found.dir) {
    AddEntry(fs, sbx::MOUNT_KIND_FILE, listed->path);  // Empty, read-only.
    return;
  }
  sbx::MountEntry* e = AddEntry(fs, sbx::MOUNT_KIND_TMPFS, listed->path);
  e->set_size(kMaskDirSize);
  e->set_mode(kMaskDirMode);
}

}  // namespace

void TranslateReadonlyPaths(const google::protobuf::RepeatedPtrField<std::string>& paths,
                            const RootfsView& view, sbx::Filesystem* fs, OciReport* report) {
  for (int i = 0; i < paths.size(); ++i) {
    AddReadonlyPath(Field("linux.readonlyPaths", i), paths[i], view, fs, report);
  }
}

void TranslateMaskedPaths(const google::protobuf::RepeatedPtrField<std::string>& paths,
                          const RootfsView& view, sbx::Filesystem* fs, OciReport* report) {
  for (int i = 0; i < paths.size(); ++i) {
    AddMaskedPath(Field("linux.maskedPaths", i), paths[i], view, fs, report);
  }
}

}  // namespace secureos::ctr
