// Where things live. Every path is under one --root prefix ("/" in production) so that a
// developer or a test can run the whole suite in a temporary directory.
#ifndef SECUREOS_COMMON_PATHS_H_
#define SECUREOS_COMMON_PATHS_H_

#include <array>
#include <string>

#include "absl/strings/string_view.h"

namespace secureos {

// The five daemons, in start order.
inline constexpr std::array<absl::string_view, 5> kDaemonNames = {
    "capd", "sandboxd", "containerd-lite", "svcd", "monitord"};

// root + "/" + relative, without doubled slashes. `relative` must not start with '/'.
std::string UnderRoot(absl::string_view root, absl::string_view relative);

// "run/secureos/<daemon>.sock", relative to the root.
std::string DefaultSocket(absl::string_view daemon);
// <root>/etc/secureos/<daemon>.conf
std::string ConfigPath(absl::string_view root, absl::string_view daemon);
// <root>/var/lib/secureos/<daemon>: state that outlives a reboot (grants, audit log).
std::string StateDir(absl::string_view root, absl::string_view daemon);
// <root>/run/secureos/<daemon>: state about live processes, meaningless after a reboot
// (a tmpfs in deployment, emptied at boot), e.g. what capd spawned.
std::string RuntimeDir(absl::string_view root, absl::string_view daemon);

}  // namespace secureos

#endif  // SECUREOS_COMMON_PATHS_H_
