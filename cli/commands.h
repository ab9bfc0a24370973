// secctl's commands that work against any daemon. Each returns the process exit code and
// writes its result to `out` (human table or JSON) and problems to `err`.
#ifndef SECUREOS_CLI_COMMANDS_H_
#define SECUREOS_CLI_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace secureos::cli {

struct Options {
  std::string root = "/";   // --root: prefix of the daemons' paths.
  bool json = false;        // --json: machine-readable output.
  absl::Duration timeout = absl::Seconds(5);  // --timeout for each call.
};

// The socket of `daemon` under the root.
std::string SocketFor(const Options& options, const std::string& daemon);

// A stub of the gRPC service `Service` on `daemon`'s socket (one channel each).
template <typename Service>
std::unique_ptr<typename Service::Stub> StubOn(const Options& options, const std::string& daemon) {
  return Service::NewStub(
      grpc::CreateChannel("unix:" + SocketFor(options, daemon), grpc::InsecureChannelCredentials()));
}

// A message as one line of JSON with the proto's own field names.
std::string JsonOf(const google::protobuf::Message& m);

// A command that succeeds quietly (kill, delete: as runc does) still answers in JSON with
// --json: its response, often "{}". kExitOk.
int QuietOk(const Options& options, const google::protobuf::Message& response, std::ostream& out);

// Prints "secctl: WHAT: error" (with a hint when `daemon` is unreachable) and returns the
// exit code for the status.
int FailCall(std::ostream& err, const std::string& what, const absl::Status& s,
             const std::string& daemon);

// `cmd` as an absolute path: PATH lookup as execvp does (the daemons take absolute paths
// only); a relative path with a slash is made absolute against the current directory.
std::string ResolveCommand(const std::string& cmd);

// `secctl version`: secctl's own release and API version.
int RunVersion(const Options& options, std::ostream& out);

// `secctl status`: health, version, pid, uptime and socket of each of `daemons`.
// Exit 0 when all are up, kExitUnavailable otherwise.
int RunStatus(const Options& options, const std::vector<std::string>& daemons,
              std::ostream& out, std::ostream& err);

// `secctl reload DAEMON`: asks the daemon to re-read its configuration.
int RunReload(const Options& options, const std::string& daemon, std::ostream& out,
              std::ostream& err);

struct EventsOptions {
  std::optional<uint64_t> from;  // --from: first sequence; default: the oldest held.
  bool follow = false;           // --follow: keep streaming new events.
};

// `secctl events DAEMON`: prints the daemon's events (one JSON object per line with --json).
int RunEvents(const Options& options, const std::string& daemon, const EventsOptions& events,
              std::ostream& out, std::ostream& err);

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_COMMANDS_H_
