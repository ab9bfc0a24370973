// A service definition after validation and resolution (see definition.h): what every
// other part of svcd works from.
#ifndef SECUREOS_SVCD_SERVICE_SPEC_H_
#define SECUREOS_SVCD_SERVICE_SPEC_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/cap_set.h"
#include "proto/sandboxd.pb.h"
#include "proto/svcd.pb.h"
#include "svcd/restart_policy.h"

namespace secureos::svcd {

struct ServiceSpec {
  v1::ServiceDefinition def;  // As given (validated).
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  CapSet caps;
  int stop_signal = 15;
  absl::Duration stop_timeout;
  absl::Duration ready_timeout;
  absl::Duration watchdog;  // Zero: none.
  BackoffParams backoff;
  uint32_t start_burst = 5;
  absl::Duration start_interval;
  // Levels 3-5 with overrides.seccomp_profile: the profile, read when the definition was
  // compiled (a start never depends on the file).
  std::optional<sandboxd::v1::SeccompProfile> seccomp;

  const std::string& name() const { return def.name(); }
  int level() const { return static_cast<int>(def.level()); }
};

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_SERVICE_SPEC_H_
