#include "common/cap_set.h"

#include <sys/capability.h>

#include <array>
#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace secureos {
namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;
using CapText = std::unique_ptr<char, CapFree>;

bool LooksLikeCapText(absl::string_view text) {
  return text.find_first_of("=+-") != absl::string_view::npos;
}

absl::StatusOr<CapSet> ParseCapText(absl::string_view text) {
  CapPtr caps(cap_from_text(std::string(text).c_str()));
  if (caps == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a capability text (cap_from_text(3) form such as \"cap_kill+ep\"): \"", text, "\""));
  }
  uint64_t mask = 0;
  for (int cap = 0; cap <= LastCap(); ++cap) {
    for (cap_flag_t flag : {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE}) {
      cap_flag_value_t value = CAP_CLEAR;
      if (cap_get_flag(caps.get(), cap, flag, &value) == 0 && value == CAP_SET) {
        mask |= uint64_t{1} << cap;
      }
    }
  }
  return CapSet::FromMask(mask);
}

}  // namespace

int LastCap() {
  static const int last = [] {
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    int n = -1;
    if (f >> n && n >= 0 && n < 64) return n;
    return static_cast<int>(cap_max_bits()) - 1;
  }();
  return last;
}

CapSet CapSet::All() {
  const int last = LastCap();
  return CapSet(last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1);
}

absl::StatusOr<CapSet> CapSet::Parse(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return CapSet();
  if (LooksLikeCapText(text)) return ParseCapText(text);
  uint64_t mask = 0;
  for (absl::string_view token : absl::StrSplit(text, absl::ByAnyChar(", \t\n"), absl::SkipEmpty())) {
    cap_value_t value;
    // cap_from_name also takes bare numbers; users mean names, so refuse those.
    if (absl::ascii_isdigit(static_cast<unsigned char>(token[0])) ||
        cap_from_name(std::string(token).c_str(), &value) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown capability \"", token, "\" (see capabilities(7); e.g. cap_net_bind_service)"));
    }
    if (value > LastCap()) {
      return absl::InvalidArgumentError(
          absl::StrCat("capability \"", token, "\" is not supported by this kernel"));
    }
    mask |= uint64_t{1} << value;
  }
  return CapSet(mask);
}

std::vector<int> CapSet::Numbers() const {
  std::vector<int> out;
  for (int cap = 0; cap < 64; ++cap) {
    if (Has(cap)) out.push_back(cap);
  }
  return out;
}

namespace {

// libcap's names, asked once: cap_to_name allocates on every call, and a process
// inspection names up to five full sets.
const std::array<std::string, 64>& NameTable() {
  static const auto* const table = [] {
    auto* t = new std::array<std::string, 64>;
    for (int cap = 0; cap < 64; ++cap) {
      CapText name(cap_to_name(cap));
      (*t)[cap] = name != nullptr ? name.get() : absl::StrCat(cap);
    }
    return t;
  }();
  return *table;
}

}  // namespace

const std::string& CapSet::Name(int cap) { return NameTable()[static_cast<size_t>(cap) & 63]; }

std::vector<std::string> CapSet::Names() const {
  std::vector<std::string> out;
  for (int cap : Numbers()) out.push_back(Name(cap));
  return out;
}

std::string CapSet::ToString() const { return absl::StrJoin(Names(), ","); }

std::string CapSet::Hex() const { return absl::StrFormat("%016x", mask_); }

}  // namespace secureos
