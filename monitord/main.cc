// monitord: wiring only. The service grows in monitord's own issue.
#include "monitord/default_config.h"
#include "common/basic_daemon.h"
#include "proto/monitord.grpc.pb.h"

int main(int argc, char** argv) {
  return secureos::BasicDaemonMain<secureos::monitord::v1::Monitord, secureos::monitord::v1::MonitordConfig>(
      argc, argv, "monitord", secureos::embedded::kDefaultConfig);
}
