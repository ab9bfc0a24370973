// One long-lived thread that runs closures in order, for work that must always come from
// the same thread (a child's parent-death signal is tied to the thread that created it).
#ifndef SECUREOS_SANDBOXD_TASK_THREAD_H_
#define SECUREOS_SANDBOXD_TASK_THREAD_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace secureos::sandboxd {

class TaskThread {
 public:
  TaskThread();
  // Runs what is queued, then joins.
  ~TaskThread();
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  // Runs `task` on the thread and waits for it.
  void Run(const std::function<void()>& task);

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_TASK_THREAD_H_
