// Validation and interpretation of ServerConfig, the `server` block every daemon's
// configuration embeds (proto/common.proto).
#ifndef SECUREOS_COMMON_SERVER_CONFIG_H_
#define SECUREOS_COMMON_SERVER_CONFIG_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/field_errors.h"
#include "proto/common.pb.h"

namespace secureos {

// Adds an error per invalid field, with paths under `prefix` (e.g. "server.").
void ValidateServerConfig(const common::v1::ServerConfig& config, absl::string_view prefix,
                          FieldErrors* errors);

// A reload cannot move or re-permission the socket or resize the event ring of a running
// daemon: each such change is an error "needs a restart" (the old config stays).
void CheckServerConfigReload(const common::v1::ServerConfig& running,
                             const common::v1::ServerConfig& next, absl::string_view prefix,
                             FieldErrors* errors);

// "0660" -> 0660. Three or four octal digits, no bits above 0777.
absl::StatusOr<mode_t> ParseSocketMode(absl::string_view text);

// A user name or a decimal uid. Empty means `fallback`.
absl::StatusOr<uid_t> ResolveUser(absl::string_view text, uid_t fallback);
// A group name or a decimal gid. Empty means `fallback`.
absl::StatusOr<gid_t> ResolveGroup(absl::string_view text, gid_t fallback);

}  // namespace secureos

#endif  // SECUREOS_COMMON_SERVER_CONFIG_H_
