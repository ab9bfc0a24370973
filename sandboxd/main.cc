// sandboxd: wiring only. The service grows in sandboxd's own issue.
#include "sandboxd/default_config.h"
#include "common/basic_daemon.h"
#include "proto/sandboxd.grpc.pb.h"

int main(int argc, char** argv) {
  return secureos::BasicDaemonMain<secureos::sandboxd::v1::Sandboxd, secureos::sandboxd::v1::SandboxdConfig>(
      argc, argv, "sandboxd", secureos::embedded::kDefaultConfig);
}
