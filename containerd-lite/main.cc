// containerd-lite: wiring only. The service grows in containerd-lite's own issue.
#include "containerd-lite/default_config.h"
#include "common/basic_daemon.h"
#include "proto/containerd_lite.grpc.pb.h"

int main(int argc, char** argv) {
  return secureos::BasicDaemonMain<secureos::containerd_lite::v1::ContainerdLite, secureos::containerd_lite::v1::ContainerdLiteConfig>(
      argc, argv, "containerd-lite", secureos::embedded::kDefaultConfig);
}
