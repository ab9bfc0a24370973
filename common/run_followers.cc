#include "common/run_followers.h"

namespace secureos {

RunFollowers::~RunFollowers() {
  std::list<std::unique_ptr<Follower>> all;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_.SignalAll();
    all.swap(followers_);
  }
  for (auto& f : all) {
    {
      absl::MutexLock lock(&f->mu);
      if (f->ctx != nullptr) f->ctx->TryCancel();
    }
    f->thread.join();
  }
}

bool RunFollowers::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void RunFollowers::Follow(std::unique_ptr<grpc::ClientContext> first, Attempt attempt,
                          OnExit on_exit) {
  absl::MutexLock lock(&mu_);
  // Forget the followers that are done.
  for (auto it = followers_.begin(); it != followers_.end();) {
    bool done;
    {
      absl::MutexLock l(&(*it)->mu);
      done = (*it)->done;
    }
    if (done) {
      (*it)->thread.join();
      it = followers_.erase(it);
    } else {
      ++it;
    }
  }
  followers_.push_back(std::make_unique<Follower>());
  Follower* f = followers_.back().get();
  f->thread = std::thread([this, f, first = std::move(first), attempt = std::move(attempt),
                           on_exit = std::move(on_exit)]() mutable {
    Run(f, std::move(first), attempt, on_exit);
  });
}

void RunFollowers::Run(Follower* f, std::unique_ptr<grpc::ClientContext> first, const Attempt& attempt,
                       const OnExit& on_exit) {
  absl::Duration backoff = absl::Milliseconds(100);
  for (int n = 0;; ++n) {
    {
      absl::MutexLock lock(&f->mu);
      f->ctx = n == 0 && first != nullptr ? std::move(first) : std::make_unique<grpc::ClientContext>();
    }
    if (stopping()) break;
    grpc::ClientContext* ctx;
    {
      absl::MutexLock lock(&f->mu);
      ctx = f->ctx.get();
    }
    std::optional<RunOutcome> outcome = attempt(ctx, n);
    if (outcome.has_value()) {
      if (!stopping()) on_exit(*outcome);
      break;
    }
    absl::MutexLock lock(&mu_);
    if (!stopping_) stop_.WaitWithTimeout(&mu_, backoff);
    if (stopping_) break;
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
  absl::MutexLock lock(&f->mu);
  f->done = true;
}

}  // namespace secureos
