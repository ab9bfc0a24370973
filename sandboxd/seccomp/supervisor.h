// The user-notify supervisor of one workload: receives every syscall the kernel program
// notifies, asks CompiledFilter::Decide what the profile says, reports it, and applies it.
//
//   ALLOW (the program notifies more than needed)  continue, no report
//   ERRNO                                            report, fail with -errno
//   unknown number (newer than libseccomp)           report, fail with -ENOSYS
//   LOG                                              report, continue
//   KILL_PROCESS                                     report, kill_workload(), fail with -EPERM
//   learning mode                                    record the number, continue, no report
//
// "Continue" (SECCOMP_USER_NOTIF_FLAG_CONTINUE) is safe here because every decision depends
// on register values only, which the task cannot change while it waits: no pointer is read.
// The thread fails closed: if the listener breaks while the workload still runs, it calls
// kill_workload(). When the supervisor is destroyed first, the kernel fails every further
// notified syscall with ENOSYS; destroy it after the workload is gone.
#ifndef SECUREOS_SANDBOXD_SECCOMP_SUPERVISOR_H_
#define SECUREOS_SANDBOXD_SECCOMP_SUPERVISOR_H_

#include <linux/seccomp.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/fd.h"
#include "sandboxd/seccomp/compiled_filter.h"

namespace secureos::sandboxd {

class SeccompSupervisor {
 public:
  struct Report {
    int pid = 0;          // Host tid of the calling thread.
    int nr = 0;           // Syscall number (x86_64).
    std::string syscall;  // "ptrace", or "syscall_<nr>".
    std::array<uint64_t, 6> args{};
    std::string action;  // CompiledFilter::DescribeAction: "errno EPERM", ...
    std::string rule;    // "rule 3 (@mount)", "default action of profile default".
  };

  // Starts the thread. `filter` must outlive the supervisor. Both callbacks run on the
  // supervisor's thread while the workload's syscall waits: keep them short and never block
  // on the workload. `kill_workload` must kill the whole workload (its cgroup or pid).
  static absl::StatusOr<std::unique_ptr<SeccompSupervisor>> Start(
      UniqueFd listener, const CompiledFilter* filter,
      std::function<void(const Report&)> on_violation, std::function<void()> kill_workload);

  // Stops the thread (through an eventfd) and closes the listener.
  ~SeccompSupervisor();
  SeccompSupervisor(const SeccompSupervisor&) = delete;
  SeccompSupervisor& operator=(const SeccompSupervisor&) = delete;

  // Learning mode: every syscall number seen so far.
  std::set<int> used() const;

 private:
  SeccompSupervisor(UniqueFd listener, UniqueFd stop, const CompiledFilter* filter,
                    std::function<void(const Report&)> on_violation,
                    std::function<void()> kill_workload, seccomp_notif_sizes sizes);
  void Run();
  // Returns false when the listener is broken.
  bool ReceiveAndAnswer();
  void Answer(const seccomp_notif& request);
  void Reply(uint64_t id, int error, bool continue_syscall);

  const UniqueFd listener_;
  const UniqueFd stop_;
  const CompiledFilter* const filter_;
  const std::function<void(const Report&)> on_violation_;
  const std::function<void()> kill_workload_;
  // Receive and reply buffers, as large as the running kernel says (SECCOMP_GET_NOTIF_SIZES)
  // and never smaller than this build's structs. Used by the thread only.
  std::vector<uint64_t> request_buf_;
  std::vector<uint64_t> response_buf_;
  mutable absl::Mutex mu_;
  std::set<int> used_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_SUPERVISOR_H_
