// The main() every daemon shares: flags, configuration, signals, the socket server,
// readiness, graceful shutdown.
//
//   --root DIR       prefix of every path (default "/")
//   --config FILE    configuration file (default <root>/etc/secureos/<daemon>.conf; when it
//                    does not exist the embedded default is used)
//   --log_level L    debug | info | warning | error
//   --print_default_config   print the embedded default configuration and exit
//
// Signals: SIGTERM/SIGINT stop gracefully within server.shutdown_timeout_ms; SIGHUP reloads.
// They are blocked before any thread exists and taken with sigwaitinfo in the main thread,
// so no handler runs in a gRPC thread. Readiness is reported with sd_notify when
// NOTIFY_SOCKET is set (READY=1, RELOADING=1, STOPPING=1).
#ifndef SECUREOS_COMMON_DAEMON_MAIN_H_
#define SECUREOS_COMMON_DAEMON_MAIN_H_

#include <grpcpp/impl/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/access_policy.h"
#include "common/config_store.h"
#include "common/daemon_core.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace secureos {

// One gRPC service of a daemon and who may call each of its methods.
struct ServiceEntry {
  std::unique_ptr<grpc::Service> service;
  const google::protobuf::ServiceDescriptor* descriptor = nullptr;
  MethodTable access;
};

struct DaemonSpec {
  // "capd", "sandboxd", ... (see paths.h).
  std::string name;
  // An instance of the daemon's config message; it must have a `server` field of type
  // secureos.common.v1.ServerConfig.
  const google::protobuf::Message* config_prototype = nullptr;
  // Text-format default configuration, used when the config file does not exist.
  std::string embedded_config;
  // Checks the daemon's own fields; the `server` block is checked by the scaffold. Optional.
  ConfigStore::Validator validate;
  // Only capd keeps CAP_SETPCAP; every other daemon drops it from all five sets before any
  // thread exists and refuses to run if it cannot.
  bool keeps_setpcap = false;
  // Called once with the loaded configuration, before any thread exists: the place for a
  // daemon to give up privileges it will not need. Optional; an error stops the daemon.
  std::function<absl::Status(const google::protobuf::Message& config)> confine;
  // Builds the daemon's services once the core exists.
  std::function<absl::StatusOr<std::vector<ServiceEntry>>(DaemonCore& core)> make_services;
};

// The service descriptor of a generated gRPC service class.
template <typename GrpcService>
const google::protobuf::ServiceDescriptor* ServiceDescriptorOf() {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      GrpcService::service_full_name());
}

// Runs the daemon until SIGTERM/SIGINT; returns the process exit code.
int DaemonMain(int argc, char** argv, const DaemonSpec& spec);

// The `server` block of a daemon configuration.
absl::StatusOr<const common::v1::ServerConfig*> ServerBlock(const google::protobuf::Message& c);

}  // namespace secureos

#endif  // SECUREOS_COMMON_DAEMON_MAIN_H_
