#include "containerd-lite/oci_mount_options.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

bool In(absl::string_view s, std::initializer_list<absl::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool IsSize(absl::string_view s) {
  absl::string_view digits = s;
  if (!digits.empty() && absl::string_view("kKmMgG").find(digits.back()) != std::string::npos) {
    digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 15) return false;
  bool nonzero = false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

bool IsMode(absl::string_view s) {
  if (s.size() < 3 || s.size() > 4) return false;
  for (char c : s) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

// One option of a mount: "size=64k" has the key "size" and the value "64k".
struct Option {
  Option(const std::string& option, std::string option_field)
      : text(option), field(std::move(option_field)) {
    const size_t eq = text.find('=');
    key = text.substr(0, eq);
    has_value = eq != std::string::npos;
    value = has_value ? text.substr(eq + 1) : "";
  }
  const std::string& text;
  std::string field;  // "mounts[3].options[1]".
  std::string key;
  std::string value;
  bool has_value = false;
};

// Checks the options of one mount of type `type` into `out`. Each family of options has
// its method, which returns false when the option is not of its family.
class OptionChecker {
 public:
  OptionChecker(MountType type, MountOptions* out, OciReport* report)
      : type_(type), type_name_(MountTypeName(type)), out_(out), report_(report) {}

  // False when `o` is refused.
  bool Check(const Option& o) {
    refused_ = false;
    if (!Atime(o) && !Exec(o) && !Refused(o) && !ReadWrite(o) && !Bind(o) && !Tmpfs(o) &&
        !Devpts(o)) {
      Refuse(o, absl::StrCat("unknown or unsupported option of ", type_name_));
    }
    return !refused_;
  }

 private:
  void Refuse(const Option& o, absl::string_view why) {
    report_->Error(o.field, absl::StrCat(Quote(o.text), ": ", why));
    refused_ = true;
  }

  bool TmpfsOrBind() const { return type_ == MountType::kTmpfs || type_ == MountType::kBind; }

  bool Atime(const Option& o) {
    if (In(o.text, {"nosuid", "nodev", "private", "rprivate", "relatime"})) {
      return true;  // Always so in sandboxd.
    }
    if (!In(o.text, {"strictatime", "noatime", "atime", "nodiratime", "diratime", "norelatime",
                     "lazytime", "nolazytime"})) {
      return false;
    }
    report_->Note(o.field, absl::StrCat(Quote(o.text), " is not applied (sandboxd's mounts keep "
                                                       "the kernel's default, relatime)"));
    return true;
  }

  bool Exec(const Option& o) {
    if (o.text == "noexec") {
      if (TmpfsOrBind()) {
        report_->Note(o.field, absl::StrCat("noexec is not applied: sandboxd's ", type_name_,
                                            " mounts allow exec (nosuid,nodev only)"));
      }
      // proc, /dev and devpts are noexec in sandboxd; sysfs, cgroupfs and mqueue hold
      // nothing executable.
      return true;
    }
    if (o.text != "exec") return false;
    if (!TmpfsOrBind()) Refuse(o, absl::StrCat("sandboxd's ", type_name_, " is always noexec"));
    return true;
  }

  bool Refused(const Option& o) {
    if (In(o.text, {"suid", "dev"})) {
      Refuse(o, "sandboxd's mounts are always nosuid,nodev");
      return true;
    }
    if (!In(o.text, {"shared", "rshared", "slave", "rslave", "unbindable", "runbindable"})) {
      return false;
    }
    Refuse(o, "mount propagation other than private is not supported (sandboxd's mounts are "
              "all private)");
    return true;
  }

  bool ReadWrite(const Option& o) {
    if (o.text == "ro") {
      out_->ro = true;
    } else if (o.text == "rw") {
      out_->rw = true;
    } else {
      return false;
    }
    return true;
  }

  bool Bind(const Option& o) {
    if (o.text != "bind" && o.text != "rbind") return false;
    if (type_ != MountType::kBind) {
      Refuse(o, absl::StrCat("not an option of ", type_name_));
    } else if (o.text == "bind") {
      report_->Note(o.field,
                    "binds are recursive in sandboxd (submounts of the source are included)");
    }
    return true;
  }

  bool Tmpfs(const Option& o) {
    if ((type_ != MountType::kTmpfs && type_ != MountType::kDev) || !o.has_value) return false;
    if (o.key == "size") {
      if (IsSize(o.value)) {
        out_->size = o.value;
      } else {
        Refuse(o, "size must be a number of bytes with an optional k, m or g suffix");
      }
      return true;
    }
    if (o.key != "mode") return false;
    if (IsMode(o.value)) {
      out_->mode = o.value;
    } else {
      Refuse(o, "mode must be 3 or 4 octal digits");
    }
    return true;
  }

  bool Devpts(const Option& o) {
    if (type_ != MountType::kDevpts) return false;
    if (o.text == "newinstance") return true;  // sandboxd's devpts is a new instance.
    if (!o.has_value) return false;
    if (o.key == "ptmxmode" || o.key == "mode") {
      const std::string want = o.key == "ptmxmode" ? "0666" : "0620";
      if (o.value != want && "0" + o.value != want) {
        report_->Note(o.field, absl::StrCat(Quote(o.text), " is not applied: sandboxd's devpts "
                                                           "has ",
                                            o.key, "=", want));
      }
      return true;
    }
    if (o.key != "gid" && o.key != "uid") return false;
    report_->Note(o.field, absl::StrCat(Quote(o.text),
                                        " is not applied: in a user namespace sandboxd's devpts "
                                        "keeps the kernel's owner (the opener's ids)"));
    return true;
  }

  const MountType type_;
  const std::string type_name_;
  MountOptions* out_;
  OciReport* report_;
  bool refused_ = false;
};

// What is wrong with ro/rw for a mount of `type`, if anything.
std::optional<std::string> ReadWriteProblem(MountType type, const MountOptions& options) {
  if (options.ro && options.rw) return "both ro and rw";
  const std::string name = MountTypeName(type);
  switch (type) {
    case MountType::kTmpfs:
      if (options.ro) return "a read-only tmpfs is not supported by sandboxd";
      break;
    case MountType::kDev:
      if (options.rw) return "rw: sandboxd's /dev is read-only once made";
      break;
    case MountType::kProc:
    case MountType::kDevpts:
      if (options.ro) {
        return absl::StrCat("a read-only ", name,
                            " is not supported (use linux.readonlyPaths for parts of /proc)");
      }
      break;
    case MountType::kSysfs:
    case MountType::kCgroup:
      if (!options.ro) {
        return absl::StrCat("only a read-only ", name,
                            " is supported (the host's, bound read-only): add \"ro\"");
      }
      break;
    case MountType::kBind:
    case MountType::kMqueue:
      break;
  }
  return std::nullopt;
}

}  // namespace

const char* MountTypeName(MountType type) {
  switch (type) {
    case MountType::kBind: return "bind";
    case MountType::kTmpfs: return "tmpfs";
    case MountType::kDev: return "tmpfs on /dev";
    case MountType::kProc: return "proc";
    case MountType::kSysfs: return "sysfs";
    case MountType::kCgroup: return "cgroup";
    case MountType::kDevpts: return "devpts";
    case MountType::kMqueue: return "mqueue";
  }
  return "?";
}

std::optional<MountType> ClassifyMount(const oci::v1::Mount& m, const std::string& dest,
                                       const std::string& field, OciReport* report) {
  const std::string& t = m.type();
  const bool bind_option = std::any_of(m.options().begin(), m.options().end(),
                                       [](const std::string& o) { return o == "bind" || o == "rbind"; });
  if (t == "bind" || ((t.empty() || t == "none") && bind_option)) return MountType::kBind;
  if (t == "tmpfs") return dest == "/dev" ? MountType::kDev : MountType::kTmpfs;
  if (t == "proc") return MountType::kProc;
  if (t == "sysfs") return MountType::kSysfs;
  if (t == "cgroup" || t == "cgroup2") return MountType::kCgroup;
  if (t == "devpts") return MountType::kDevpts;
  if (t == "mqueue") return MountType::kMqueue;
  report->Error(field + ".type",
                t.empty() ? std::string("required (or a bind/rbind option for a bind)")
                          : absl::StrCat(Quote(t),
                                         " is not supported by containerd-lite (bind, tmpfs, "
                                         "proc, sysfs, devpts, mqueue, cgroup)"));
  return std::nullopt;
}

bool CheckMountOptions(const oci::v1::Mount& m, MountType type, const std::string& field,
                       MountOptions* out, OciReport* report) {
  OptionChecker checker(type, out, report);
  bool ok = true;
  for (int j = 0; j < m.options_size(); ++j) {
    ok &= checker.Check(Option(m.options(j), Field(field + ".options", j)));
  }
  std::optional<std::string> problem = ReadWriteProblem(type, *out);
  if (!problem) return ok;
  report->Error(field + ".options", *problem);
  return false;
}

}  // namespace secureos::ctr
