// Asking capd whether a workload may keep capabilities inside its user namespace.
//
// sandboxd never decides this itself: capd is the capability authority. A workload that
// asks for capabilities runs only when capd answers yes for its principal
// ("sandbox:<name>"); capd unreachable means no.
#ifndef SECUREOS_SANDBOXD_CAPABILITY_AUTHORIZER_H_
#define SECUREOS_SANDBOXD_CAPABILITY_AUTHORIZER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace secureos::sandboxd {

class CapabilityAuthorizer {
 public:
  virtual ~CapabilityAuthorizer() = default;
  // OK when allowed; PERMISSION_DENIED with capd's rule when not; UNAVAILABLE when capd
  // cannot be asked. `trace_id` is the workload's: capd's event about the answer carries it.
  virtual absl::Status Authorize(const std::string& principal, const std::string& capabilities,
                                 const std::string& trace_id) = 0;
};

// Talks to capd's Authorize over its Unix socket.
std::unique_ptr<CapabilityAuthorizer> NewCapdAuthorizer(const std::string& capd_socket);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_CAPABILITY_AUTHORIZER_H_
