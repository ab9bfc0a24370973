#include "sandboxd/task_thread.h"

#include "absl/synchronization/notification.h"

namespace secureos::sandboxd {

TaskThread::TaskThread() : thread_([this] { Loop(); }) {}

TaskThread::~TaskThread() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void TaskThread::Run(const std::function<void()>& task) {
  absl::Notification done;
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back([&] {
      task();
      done.Notify();
    });
  }
  done.WaitForNotification();
}

void TaskThread::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace secureos::sandboxd
