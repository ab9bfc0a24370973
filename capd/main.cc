// capd: wiring only. The service grows in capd's own issue.
#include "capd/default_config.h"
#include "common/basic_daemon.h"
#include "proto/capd.grpc.pb.h"

int main(int argc, char** argv) {
  return secureos::BasicDaemonMain<secureos::capd::v1::Capd, secureos::capd::v1::CapdConfig>(
      argc, argv, "capd", secureos::embedded::kDefaultConfig);
}
