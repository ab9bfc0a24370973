#include "monitord/alert_store.h"

#include <algorithm>
#include <map>

#include "google/protobuf/util/time_util.h"

namespace secureos::monitord {
namespace {

namespace v1 = ::secureos::monitord::v1;
using google::protobuf::util::TimeUtil;

int64_t Nanos(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToNanoseconds(t); }

bool Wanted(const v1::Alert& a, const v1::ViolationsRequest& r) {
  if (!r.principal().empty() && a.event().principal().id() != r.principal()) return false;
  if (!r.rule().empty() && a.rule() != r.rule()) return false;
  if (a.severity() < r.min_severity()) return false;
  const int64_t t = Nanos(a.event().time());
  if (r.has_since() && t < Nanos(r.since())) return false;
  if (r.has_until() && t >= Nanos(r.until())) return false;
  return true;
}

}  // namespace

void AlertStore::Add(v1::Alert alert) {
  absl::MutexLock lock(&mu_);
  alerts_.push_back(std::move(alert));
  while (alerts_.size() > capacity_) {
    alerts_.pop_front();
    ++first_;
  }
}

uint64_t AlertStore::next() const {
  absl::MutexLock lock(&mu_);
  return first_ + alerts_.size();
}

v1::ViolationsResponse AlertStore::Query(const v1::ViolationsRequest& request) const {
  const size_t limit = request.limit() == 0 ? 100 : request.limit();
  std::map<std::string, v1::PrincipalViolations> by_principal;
  v1::ViolationsResponse out;
  absl::MutexLock lock(&mu_);
  for (auto it = alerts_.rbegin(); it != alerts_.rend(); ++it) {
    if (!Wanted(*it, request)) continue;
    v1::PrincipalViolations& p = by_principal[it->event().principal().id()];
    if (p.alerts() == 0) {
      p.set_principal(it->event().principal().id());
      *p.mutable_last() = it->event().time();  // Newest first: the first seen is the last.
    }
    p.set_alerts(p.alerts() + std::max<uint64_t>(1, it->count()));
    (*p.mutable_by_rule())[it->rule()] += std::max<uint64_t>(1, it->count());
    if (it->severity() > p.worst()) p.set_worst(it->severity());
    if (static_cast<size_t>(out.history_size()) < limit) *out.add_history() = *it;
  }
  std::vector<v1::PrincipalViolations> sorted;
  for (auto& [name, p] : by_principal) sorted.push_back(std::move(p));
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.alerts() > b.alerts(); });
  for (auto& p : sorted) *out.add_principals() = std::move(p);
  return out;
}

std::vector<v1::Alert> AlertStore::WaitAfter(uint64_t* cursor, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto more = [this, cursor]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return first_ + alerts_.size() > *cursor; };
  mu_.AwaitWithTimeout(absl::Condition(&more), timeout);
  std::vector<v1::Alert> out;
  const uint64_t from = std::max(*cursor, first_);
  for (uint64_t i = from; i < first_ + alerts_.size(); ++i) out.push_back(alerts_[i - first_]);
  *cursor = first_ + alerts_.size();
  return out;
}

}  // namespace secureos::monitord
