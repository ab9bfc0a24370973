// svcd: wiring only. The service grows in svcd's own issue.
#include "svcd/default_config.h"
#include "common/basic_daemon.h"
#include "proto/svcd.grpc.pb.h"

int main(int argc, char** argv) {
  return secureos::BasicDaemonMain<secureos::svcd::v1::Svcd, secureos::svcd::v1::SvcdConfig>(
      argc, argv, "svcd", secureos::embedded::kDefaultConfig);
}
