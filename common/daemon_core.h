// What every daemon's services share at run time: identity, configuration, events,
// authorization, health. Services get a DaemonCore&; concept libraries get only the piece
// they need (an EventRing*, a config), never the core.
#ifndef SECUREOS_COMMON_DAEMON_CORE_H_
#define SECUREOS_COMMON_DAEMON_CORE_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config_store.h"
#include "common/event_ring.h"
#include "common/grpc_server.h"
#include "proto/common.pb.h"

namespace secureos {

class DaemonCore {
 public:
  DaemonCore(std::string name, std::string root, ConfigStore* config, EventRing* events,
             UdsGrpcServer* server);

  const std::string& name() const { return name_; }
  const std::string& root() const { return root_; }
  EventRing& events() { return *events_; }
  const EventRing& events() const { return *events_; }
  const ConfigStore& config() const { return *config_; }
  // Runs `observer` after every successful reload (Reload RPC or SIGHUP), after the
  // daemon's own ones.
  void OnReload(ConfigStore::Observer observer) { config_->AddObserver(std::move(observer)); }

  // The caller of this call, or PERMISSION_DENIED (see UdsGrpcServer::Authorize).
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase* ctx) const;

  // Re-reads the configuration. Either way a CONFIG_RELOADED event says what happened and
  // who asked (`principal`, e.g. "uid:0" or "signal:SIGHUP"). Returns the source read.
  absl::StatusOr<std::string> Reload(const std::string& principal);

  void FillHealth(common::v1::HealthResponse* out) const;
  void FillVersion(common::v1::VersionResponse* out) const;

  void SetStopping() { stopping_.store(true); }
  bool stopping() const { return stopping_.load(); }

 private:
  const std::string name_;
  const std::string root_;
  const absl::Time started_;
  ConfigStore* const config_;
  EventRing* const events_;
  UdsGrpcServer* const server_;
  std::atomic<bool> stopping_{false};
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_DAEMON_CORE_H_
