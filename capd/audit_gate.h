// capd's required audit (CapdConfig.required_audit): before a grant or a spawn, monitord is
// asked whether it records capd's events now. A narrow interface: tests fake it.
#ifndef SECUREOS_CAPD_AUDIT_GATE_H_
#define SECUREOS_CAPD_AUDIT_GATE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace secureos::capd {

class AuditGate {
 public:
  virtual ~AuditGate() = default;
  // OK when monitord records capd's events now; otherwise FAILED_PRECONDITION saying why
  // (monitord unreachable within 500 ms, not following capd, its audit log failing).
  virtual absl::Status Ready() = 0;
};

// Asks monitord's Ready over its Unix socket.
std::unique_ptr<AuditGate> NewMonitordAuditGate(const std::string& monitord_socket);

}  // namespace secureos::capd

#endif  // SECUREOS_CAPD_AUDIT_GATE_H_
