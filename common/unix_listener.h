// The listening Unix socket of a daemon, and the loop that accepts on it.
//
// Security notes:
// - The socket is a path in the filesystem, never an abstract socket (abstract names have
//   no permissions and are visible across the network namespace).
// - Its mode and owner come from the configuration, never from the umask: the socket is
//   bound under a temporary name with umask 0177 (so nobody but the owner can connect while
//   it is being set up), chmod/chown'ed, then renamed into place atomically.
// - A lock file "<socket>.lock" (flock, holding the pid) makes a second instance on the same
//   socket refuse to start instead of stealing the path from the live one.
// - Accepted connections are SOCK_NONBLOCK|SOCK_CLOEXEC (gRPC needs non-blocking fds) and
//   come with the peer's SO_PEERCRED.
#ifndef SECUREOS_COMMON_UNIX_LISTENER_H_
#define SECUREOS_COMMON_UNIX_LISTENER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/access_policy.h"
#include "common/fd.h"

namespace secureos {

class UnixListener {
 public:
  struct Options {
    std::string path;  // Absolute socket path; missing directories are created 0755.
    mode_t mode = 0600;
    uid_t owner = 0;
    gid_t group = 0;
  };

  // Takes the lock, then binds and listens. FAILED_PRECONDITION naming the pid when another
  // live instance holds the lock.
  static absl::StatusOr<std::unique_ptr<UnixListener>> Open(const Options& options);

  using AcceptFn = std::function<void(UniqueFd conn, const PeerCredentials& peer)>;
  // Starts a thread that calls `on_accept` for each connection until Stop().
  void Start(AcceptFn on_accept);
  // Stops accepting; idempotent. The socket file stays until destruction.
  void Stop();
  // Stops, then removes the socket and the lock file.
  ~UnixListener();

  const std::string& path() const { return options_.path; }

 private:
  UnixListener(Options options, UniqueFd lock, UniqueFd listen, UniqueFd wake);
  void AcceptLoop(AcceptFn on_accept);

  const Options options_;
  UniqueFd lock_;
  UniqueFd listen_;
  UniqueFd wake_;  // eventfd that ends the accept loop.
  std::thread thread_;
};

// SO_PEERCRED of a connected Unix socket.
absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd);

}  // namespace secureos

#endif  // SECUREOS_COMMON_UNIX_LISTENER_H_
