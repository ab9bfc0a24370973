// The channel a daemon uses to call another over its Unix socket.
//
// gRPC's default reconnect backoff starts at 1 s and grows to 120 s: a client whose peer was
// down for a while keeps failing for up to two minutes after the peer is back. Daemons call
// each other through this channel instead, which tries again after 100 ms and never waits
// more than 500 ms, so a client recovers within a second of its peer answering.
#ifndef SECUREOS_COMMON_UNIX_CHANNEL_H_
#define SECUREOS_COMMON_UNIX_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace secureos {

// A channel to the daemon listening at `socket` (an absolute path).
std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket);

}  // namespace secureos

#endif  // SECUREOS_COMMON_UNIX_CHANNEL_H_
