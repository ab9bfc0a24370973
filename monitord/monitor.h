// monitord's pipeline: the sources' event streams (SourceSubscriber, one thread each) feed one
// engine thread, which for every record, in order:
//   - writes the event to the audit log (monitord's own ALERT events excepted: their alert
//     records are there already);
//   - runs the rules (RuleEngine) and, for each alert, writes an alert record, keeps it in
//     the AlertStore (violations, Watch) and publishes an EVENT_KIND_ALERT event;
//   - turns a lost record of another source into an EVENT_KIND_EVENTS_LOST event of its own
//     (which then comes back through monitord's own stream to the rules and the audit log);
//     its own stream's gaps are written to the audit log directly.
// The queue between the sources and the engine is bounded: when the engine falls behind, the
// subscribers stop reading and the sources' rings drop for them (and say so); no source ever
// waits for monitord. Each source's cursor is saved (<state_dir>/cursors.textproto) up to the
// last event whose audit record is on disk, and a restart resumes after the last event the
// audit log holds of each source (or the saved cursor): nothing is missed silently, and
// nothing recorded is recorded again.
#ifndef SECUREOS_MONITORD_MONITOR_H_
#define SECUREOS_MONITORD_MONITOR_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/event_ring.h"
#include "monitord/alert_store.h"
#include "monitord/audit/audit_log.h"
#include "monitord/rules/rule_engine.h"
#include "monitord/source_subscriber.h"
#include "proto/monitord.pb.h"

namespace secureos::monitord {

class Monitor {
 public:
  struct Options {
    std::string state_dir;                         // Exists.
    AuditLogOptions audit;                         // dir: <state_dir>/audit (made when missing).
    std::shared_ptr<const RuleSet> rules;
    std::map<std::string, std::string> sources;    // Daemon -> socket; monitord's own included.
    EventRing* events = nullptr;                    // monitord's ring (alerts, lost, audit failures).
    size_t alerts_kept = 10000;
    size_t queue_limit = 65536;                     // Records between the subscribers and the engine.
  };

  static absl::StatusOr<std::unique_ptr<Monitor>> Start(Options options);
  ~Monitor();

  // The rules from now on (a reload).
  void SetRules(std::shared_ptr<const RuleSet> rules);
  const AlertStore& alerts() const { return alerts_; }
  monitord::v1::StatsResponse Stats() const;
  // Whether `source`'s events are recorded now: it is followed, and the audit log writes.
  monitord::v1::ReadyResponse Ready(const std::string& source) const;

 private:
  struct Record {
    std::string source;
    common::v1::SubscribeResponse record;
  };

  explicit Monitor(Options options);
  absl::Status Open();
  void ResumeFromAudit();
  void Enqueue(const std::string& source, const common::v1::SubscribeResponse& record);
  void EngineLoop();
  void Handle(const Record& r);
  void HandleEvent(const std::string& source, const common::v1::Event& event);
  void HandleLost(const std::string& source, const common::v1::EventsLost& lost);
  void Fire(std::vector<monitord::v1::Alert> alerts);
  void SaveCursors();
  std::string CursorsPath() const;

  Options options_;
  std::unique_ptr<AuditLog> audit_;
  AlertStore alerts_;
  std::map<std::string, StreamCursor> start_cursors_;
  std::vector<std::unique_ptr<SourceSubscriber>> subscribers_;

  mutable absl::Mutex mu_;
  std::deque<Record> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const RuleSet> next_rules_ ABSL_GUARDED_BY(mu_);
  // Per source: (audit sequence, cursor) of events recorded, oldest first, until saved.
  std::map<std::string, std::deque<std::pair<uint64_t, StreamCursor>>> unsaved_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StreamCursor> saved_ ABSL_GUARDED_BY(mu_);
  struct SourceCounts {
    uint64_t recorded = 0;
    uint64_t alerts = 0;
  };
  std::map<std::string, SourceCounts> counts_ ABSL_GUARDED_BY(mu_);

  // The engine thread's own.
  std::unique_ptr<RuleEngine> engine_;
  std::atomic<uint64_t> evaluated_{0};
  std::atomic<uint64_t> fired_{0};
  std::atomic<uint64_t> eval_ns_{0};
  std::atomic<uint32_t> rules_count_;
  std::thread engine_thread_;
};

}  // namespace secureos::monitord

#endif  // SECUREOS_MONITORD_MONITOR_H_
