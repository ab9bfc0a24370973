// The sd_notify(3) protocol for services: each service gets a datagram socket of its own,
// <dir>/<name>.sock, named in its $NOTIFY_SOCKET; one thread receives every service's
// messages ("READY=1\nSTATUS=...") with the sender's credentials (SO_PASSCRED).
//
// Security notes: the socket is mode 0666 so that a service of any uid (and a sandboxed one,
// whose uid on the host is sandboxd's workload uid) can send; who sent is decided by the
// kernel-supplied pid, which the handler must check belongs to the service (its main process
// or its cgroup) before believing READY=1 or WATCHDOG=1 (systemd's NotifyAccess=all).
// A socket path survives an svcd restart by name: the next svcd binds the same path, and the
// service, which sends by path, reaches it.
#ifndef SECUREOS_SVCD_NOTIFY_HUB_H_
#define SECUREOS_SVCD_NOTIFY_HUB_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/child_watch.h"
#include "common/fd.h"

namespace secureos::svcd {

// One datagram, parsed. Unknown assignments are ignored, as systemd does.
struct NotifyMessage {
  std::string service;  // Whose socket it came to.
  pid_t pid = 0;        // Sender, from SCM_CREDENTIALS (0 when the kernel sent none).
  uid_t uid = 0;
  bool ready = false;     // READY=1
  bool stopping = false;  // STOPPING=1
  bool watchdog = false;  // WATCHDOG=1
  bool watchdog_trigger = false;  // WATCHDOG=trigger: act as if the watchdog expired.
  std::optional<std::string> status;  // STATUS=...
};

// Parses "KEY=VALUE" lines (what sd_notify sends).
NotifyMessage ParseNotifyMessage(absl::string_view text);

class NotifyHub {
 public:
  // Called on the hub's thread, one message at a time.
  using Handler = std::function<void(const NotifyMessage&)>;

  // `dir` is made 0755 when missing (services of any uid must reach their socket).
  static absl::StatusOr<std::unique_ptr<NotifyHub>> Start(std::string dir, Handler handler);
  ~NotifyHub();

  // Binds (again, after an svcd restart) the socket of `service`; returns its path.
  // Idempotent. INVALID_ARGUMENT when the path is too long for a Unix socket.
  absl::StatusOr<std::string> Open(const std::string& service);
  // Closes and removes it.
  void Close(const std::string& service);

 private:
  struct Socket {
    std::string service;
    UniqueFd fd;
  };
  NotifyHub(std::string dir, Handler handler, WatchSet set);
  void Loop();
  void Receive(int fd, const std::string& service);

  const std::string dir_;
  const Handler handler_;
  WatchSet set_;
  std::thread thread_;
  absl::Mutex mu_;
  std::map<std::string, uint64_t> keys_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Socket> sockets_ ABSL_GUARDED_BY(mu_);
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_NOTIFY_HUB_H_
