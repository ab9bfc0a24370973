// main() of a daemon whose service has only the four basic methods so far.
#ifndef SECUREOS_COMMON_BASIC_DAEMON_H_
#define SECUREOS_COMMON_BASIC_DAEMON_H_

#include <memory>
#include <string>
#include <vector>

#include "common/basic_service.h"
#include "common/daemon_main.h"

namespace secureos {

template <typename GrpcService, typename Config>
int BasicDaemonMain(int argc, char** argv, const std::string& name,
                    const std::string& default_config) {
  static const Config prototype;
  DaemonSpec spec;
  spec.name = name;
  spec.config_prototype = &prototype;
  spec.embedded_config = default_config;
  spec.make_services = [](DaemonCore& core) -> absl::StatusOr<std::vector<ServiceEntry>> {
    std::vector<ServiceEntry> services;
    services.push_back(ServiceEntry{std::make_unique<BasicService<GrpcService>>(&core),
                                    ServiceDescriptorOf<GrpcService>(),
                                    BasicService<GrpcService>::BasicMethods()});
    return services;
  };
  return DaemonMain(argc, argv, spec);
}

}  // namespace secureos

#endif  // SECUREOS_COMMON_BASIC_DAEMON_H_
