#include "sandboxd/seccomp/supervisor.h"

#include <linux/audit.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/status.h"

namespace secureos::sandboxd {
namespace {

std::vector<uint64_t> Buffer(size_t kernel_size, size_t our_size) {
  return std::vector<uint64_t>(std::max(kernel_size, our_size) / sizeof(uint64_t) + 1, 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SeccompSupervisor>> SeccompSupervisor::Start(
    UniqueFd listener, const CompiledFilter* filter,
    std::function<void(const Report&)> on_violation, std::function<void()> kill_workload) {
  if (!listener.valid() || filter == nullptr || !on_violation || !kill_workload) {
    return absl::InvalidArgumentError("SeccompSupervisor: listener, filter and callbacks required");
  }
  if (filter->program() == nullptr) {
    return absl::InvalidArgumentError("SeccompSupervisor: an unconfined workload has no listener");
  }
  seccomp_notif_sizes sizes{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    return ErrnoToStatus(errno, "seccomp(SECCOMP_GET_NOTIF_SIZES)");
  }
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) return ErrnoToStatus(errno, "eventfd");
  std::unique_ptr<SeccompSupervisor> s(new SeccompSupervisor(std::move(listener), std::move(stop),
                                                             filter, std::move(on_violation),
                                                             std::move(kill_workload), sizes));
  s->thread_ = std::thread(&SeccompSupervisor::Run, s.get());
  return s;
}

SeccompSupervisor::SeccompSupervisor(UniqueFd listener, UniqueFd stop, const CompiledFilter* filter,
                                     std::function<void(const Report&)> on_violation,
                                     std::function<void()> kill_workload, seccomp_notif_sizes sizes)
    : listener_(std::move(listener)),
      stop_(std::move(stop)),
      filter_(filter),
      on_violation_(std::move(on_violation)),
      kill_workload_(std::move(kill_workload)),
      request_buf_(Buffer(sizes.seccomp_notif, sizeof(seccomp_notif))),
      response_buf_(Buffer(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp))) {}

SeccompSupervisor::~SeccompSupervisor() {
  const uint64_t one = 1;
  // The eventfd counter cannot overflow from one write; poll sees it either way.
  (void)!::write(stop_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

std::set<int> SeccompSupervisor::used() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

void SeccompSupervisor::Run() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      kill_workload_();
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) != 0) {
      if (!ReceiveAndAnswer()) {
        kill_workload_();  // A workload nobody answers would hang forever.
        return;
      }
      continue;
    }
    // POLLHUP: no task uses the filter any more.
    if (fds[0].revents != 0) return;
  }
}

bool SeccompSupervisor::ReceiveAndAnswer() {
  std::fill(request_buf_.begin(), request_buf_.end(), 0);  // The kernel wants it zeroed.
  auto* request = reinterpret_cast<seccomp_notif*>(request_buf_.data());
  if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, request) != 0) {
    // ENOENT: the task died, or a signal interrupted its syscall, before we read it.
    return errno == EINTR || errno == ENOENT;
  }
  Answer(*request);
  return true;
}

void SeccompSupervisor::Answer(const seccomp_notif& request) {
  const int nr = request.data.nr;
  if (request.data.arch != AUDIT_ARCH_X86_64) {  // The program kills these first.
    kill_workload_();
    Reply(request.id, -EPERM, false);
    return;
  }
  if (filter_->learning()) {
    {
      absl::MutexLock lock(&mu_);
      used_.insert(nr);
    }
    Reply(request.id, 0, true);
    return;
  }
  Report report;
  std::copy(std::begin(request.data.args), std::end(request.data.args), report.args.begin());
  const CompiledFilter::Decision d = filter_->Decide(nr, report.args.data());
  if (d.kind == CompiledFilter::Decision::kAllow) {
    Reply(request.id, 0, true);
    return;
  }
  report.pid = static_cast<int>(request.pid);
  report.nr = nr;
  report.syscall = filter_->SyscallName(nr);
  report.action = CompiledFilter::DescribeAction(d);
  report.rule = d.rule;
  on_violation_(report);
  switch (d.kind) {
    case CompiledFilter::Decision::kLog:
      Reply(request.id, 0, true);
      return;
    case CompiledFilter::Decision::kKill:
      kill_workload_();
      Reply(request.id, -EPERM, false);
      return;
    default:
      Reply(request.id, -d.errno_value, false);
      return;
  }
}

void SeccompSupervisor::Reply(uint64_t id, int error, bool continue_syscall) {
  std::fill(response_buf_.begin(), response_buf_.end(), 0);
  auto* response = reinterpret_cast<seccomp_notif_resp*>(response_buf_.data());
  response->id = id;
  response->error = error;
  response->val = 0;
  response->flags = continue_syscall ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
  // ENOENT: the task is gone or was interrupted; nothing is waiting for this answer.
  (void)RetryOnEintr([&] { return ::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, response); });
}

}  // namespace secureos::sandboxd
