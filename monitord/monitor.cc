#include "monitord/monitor.h"

#include <sys/stat.h>

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/atomic_file.h"
#include "common/config_loader.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/status.h"
#include "monitord/audit/audit_chain.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace secureos::monitord {
namespace {

namespace v1 = ::secureos::monitord::v1;
namespace cv1 = ::secureos::common::v1;

constexpr absl::Duration kSaveEvery = absl::Milliseconds(500);
// Room for a slow disk in how long after its last write an audit file is surely covered by a
// cursor save (with a save period and a batched commit wait).
constexpr absl::Duration kSlowDisk = absl::Seconds(10);

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Monitor>> Monitor::Start(Options options) {
  if (options.events == nullptr || options.rules == nullptr) {
    return absl::InvalidArgumentError("Monitor: events and rules are required");
  }
  std::unique_ptr<Monitor> m(new Monitor(std::move(options)));
  SECUREOS_RETURN_IF_ERROR(m->Open());
  m->engine_thread_ = std::thread([p = m.get()] { p->EngineLoop(); });
  for (const auto& [daemon, socket] : m->options_.sources) {
    SECUREOS_ASSIGN_OR_RETURN(
        std::unique_ptr<SourceSubscriber> s,
        SourceSubscriber::Start(daemon, socket, m->start_cursors_[daemon],
                                [p = m.get(), daemon = daemon](const cv1::SubscribeResponse& r) { p->Enqueue(daemon, r); }));
    m->subscribers_.push_back(std::move(s));
  }
  return m;
}

Monitor::Monitor(Options options)
    : options_(std::move(options)),
      alerts_(options_.alerts_kept),
      engine_(std::make_unique<RuleEngine>(options_.rules)),
      rules_count_(static_cast<uint32_t>(options_.rules->rules().size())) {}

std::string Monitor::CursorsPath() const { return options_.state_dir + "/cursors.textproto"; }

absl::Status Monitor::Open() {
  absl::StatusOr<std::string> text = ReadFile(CursorsPath());
  if (text.ok()) {
    v1::SourceCursors cursors;
    SECUREOS_RETURN_IF_ERROR(ParseConfig(CursorsPath(), *text, &cursors, nullptr));
    absl::MutexLock lock(&mu_);
    for (const v1::SourceCursor& c : cursors.cursors()) {
      start_cursors_[c.source()] = StreamCursor{c.epoch(), c.sequence()};
      saved_[c.source()] = start_cursors_[c.source()];
    }
  } else if (!absl::IsNotFound(text.status())) {
    return text.status();
  }
  SECUREOS_RETURN_IF_ERROR(MakeDirs(options_.audit.dir, 0700));
  EventRing* ring = options_.events;
  auto on_error = options_.audit.on_error;
  options_.audit.on_error = [ring, on_error](const absl::Status& s) {
    cv1::Event e;
    e.set_kind(cv1::EVENT_KIND_AUDIT_FAILURE);
    e.set_severity(cv1::SEVERITY_CRITICAL);
    e.set_message(absl::StrCat("the audit log cannot be written: ", s.message()));
    e.mutable_monitor()->set_error(std::string(s.message()));
    ring->Publish(std::move(e));
    if (on_error) on_error(s);
  };
  SECUREOS_ASSIGN_OR_RETURN(audit_, AuditLog::Open(options_.audit));
  ResumeFromAudit();
  return absl::OkStatus();
}

namespace {

// Records of `text` (one audit file), newest first: the last event of each source in
// `sources` not yet in `found` becomes its start cursor.
void LastEventsIn(absl::string_view text, const std::map<std::string, std::string>& sources,
                  std::set<std::string>* found, std::map<std::string, StreamCursor>* cursors) {
  absl::string_view rest = text;
  while (!rest.empty() && found->size() < sources.size()) {
    const size_t cut = rest.size() < 2 ? absl::string_view::npos : rest.rfind('\n', rest.size() - 2);
    absl::string_view line = cut == absl::string_view::npos ? rest : rest.substr(cut + 1);
    rest = cut == absl::string_view::npos ? absl::string_view() : rest.substr(0, cut + 1);
    absl::StatusOr<RecordHeader> record = ParseRecordHeader(absl::StripTrailingAsciiWhitespace(line));
    cv1::Event e;
    if (!record.ok() || record->type != "event" ||
        !google::protobuf::util::JsonStringToMessage(std::string(record->data), &e).ok()) {
      continue;
    }
    if (sources.count(e.source()) == 0 || !found->insert(e.source()).second) continue;
    (*cursors)[e.source()] = StreamCursor{e.epoch(), e.sequence()};
  }
}

// Modification time of `path`, or the epoch when it cannot be read.
absl::Time MTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::UnixEpoch();
  return absl::TimeFromTimespec(st.st_mtim);
}

}  // namespace

void Monitor::ResumeFromAudit() {
  // The audit log is what was recorded: its last event of each source is where to go on
  // (the saved cursors may lag it by a save period; reading those events again would record
  // them twice). The files are read newest first, across rotations, until every source is
  // found or a file is older than the saved cursors (which cover everything in it: a file
  // last written more than `cover` before the save was durable at the save).
  const absl::Time saved_at = MTime(CursorsPath());
  const absl::Duration cover = kSaveEvery + options_.audit.batch + kSlowDisk;
  std::vector<std::string> files = AuditLog::Files(options_.audit.dir);
  std::set<std::string> found;
  for (auto it = files.rbegin(); it != files.rend() && found.size() < options_.sources.size(); ++it) {
    if (MTime(*it) + cover < saved_at) break;
    absl::StatusOr<std::string> text = ReadFile(*it, size_t{1} << 32);
    if (!text.ok()) {
      Log(LogLevel::kWarning, "read the audit log to resume", {{"error", std::string(text.status().message())}});
      continue;
    }
    LastEventsIn(*text, options_.sources, &found, &start_cursors_);
  }
}

Monitor::~Monitor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;  // Lets a subscriber waiting for room go, so that it can stop.
  }
  subscribers_.clear();
  if (engine_thread_.joinable()) engine_thread_.join();
  (void)audit_->Flush();
  SaveCursors();
}

void Monitor::SetRules(std::shared_ptr<const RuleSet> rules) {
  rules_count_ = static_cast<uint32_t>(rules->rules().size());
  absl::MutexLock lock(&mu_);
  next_rules_ = std::move(rules);
}

void Monitor::Enqueue(const std::string& source, const cv1::SubscribeResponse& record) {
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return queue_.size() < options_.queue_limit || stopping_; };
  // Waiting here stops this source's reader; the source's ring drops for it, never waits.
  mu_.Await(absl::Condition(&room));
  queue_.push_back(Record{source, record});
}

void Monitor::EngineLoop() {
  absl::Time next_save = absl::Now() + kSaveEvery;
  for (;;) {
    std::deque<Record> batch;
    std::shared_ptr<const RuleSet> rules;
    bool stop;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), kSaveEvery);
      batch.swap(queue_);
      rules.swap(next_rules_);
      stop = stopping_;
    }
    if (rules) engine_->SetRules(std::move(rules));
    for (const Record& r : batch) Handle(r);
    Fire(engine_->Flush(absl::Now()));
    if (absl::Now() >= next_save || stop) {
      SaveCursors();
      next_save = absl::Now() + kSaveEvery;
    }
    if (stop) return;
  }
}

void Monitor::Handle(const Record& r) {
  if (r.record.has_event()) {
    HandleEvent(r.source, r.record.event());
  } else if (r.record.has_lost()) {
    HandleLost(r.source, r.record.lost());
  }
}

void Monitor::HandleEvent(const std::string& source, const cv1::Event& event) {
  uint64_t seq = 0;
  if (!(source == "monitord" && event.kind() == cv1::EVENT_KIND_ALERT)) seq = audit_->Queue("event", Json(event));
  {
    absl::MutexLock lock(&mu_);
    unsaved_[source].emplace_back(seq, StreamCursor{event.epoch(), event.sequence()});
    if (seq != 0) ++counts_[source].recorded;
  }
  const absl::Time start = absl::Now();
  std::vector<v1::Alert> alerts = engine_->Process(event);
  eval_ns_ += static_cast<uint64_t>(absl::ToInt64Nanoseconds(absl::Now() - start));
  ++evaluated_;
  Fire(std::move(alerts));
}

void Monitor::HandleLost(const std::string& source, const cv1::EventsLost& lost) {
  if (source == "monitord") {
    // Our own stream's gap: straight into the audit log (publishing it would feed the gap).
    audit_->Queue("lost", absl::StrCat("{\"source\":\"monitord\",\"epoch\":\"", lost.epoch(),
                                        "\",\"from_sequence\":", lost.from_sequence(), ",\"count\":", lost.count(), "}"));
    return;
  }
  cv1::Event e;
  e.set_kind(cv1::EVENT_KIND_EVENTS_LOST);
  e.set_severity(cv1::SEVERITY_WARNING);
  e.set_message(lost.count() == 0
                    ? absl::StrCat(source, " restarted: its events after ", lost.from_sequence() - 1, " that were not read are lost")
                    : absl::StrCat(lost.count(), " events of ", source, " lost from sequence ", lost.from_sequence()));
  e.mutable_monitor()->set_source(source);
  e.mutable_monitor()->set_lost_from(lost.from_sequence());
  e.mutable_monitor()->set_lost_count(lost.count());
  e.mutable_monitor()->set_lost_epoch(lost.epoch());
  options_.events->Publish(std::move(e));
}

void Monitor::Fire(std::vector<v1::Alert> alerts) {
  for (v1::Alert& a : alerts) {
    audit_->Queue("alert", Json(a));
    cv1::Event e;
    e.set_kind(cv1::EVENT_KIND_ALERT);
    e.set_severity(a.severity());
    e.set_trace_id(a.event().trace_id());
    *e.mutable_principal() = a.event().principal();
    e.set_message(a.output());
    e.mutable_monitor()->set_rule(a.rule());
    e.mutable_monitor()->set_key(a.key());
    e.mutable_monitor()->set_count(a.count());
    options_.events->Publish(std::move(e));
    {
      absl::MutexLock lock(&mu_);
      ++counts_[a.event().source()].alerts;
    }
    alerts_.Add(std::move(a));
    ++fired_;
  }
}

void Monitor::SaveCursors() {
  const uint64_t durable = audit_->stats().durable_seq;
  v1::SourceCursors out;
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [source, pending] : unsaved_) {
      while (!pending.empty() && pending.front().first <= durable) {
        saved_[source] = pending.front().second;
        pending.pop_front();
        changed = true;
      }
    }
    for (const auto& [source, c] : saved_) {
      v1::SourceCursor* sc = out.add_cursors();
      sc->set_source(source);
      sc->set_epoch(c.epoch);
      sc->set_sequence(c.sequence);
    }
  }
  if (!changed) return;
  std::string text;
  google::protobuf::TextFormat::PrintToString(out, &text);
  absl::Status s = WriteFileAtomically(CursorsPath(), text, 0600, Durability::kPowerLoss);
  if (!s.ok()) Log(LogLevel::kError, "save source cursors", {{"error", std::string(s.message())}});
}

v1::ReadyResponse Monitor::Ready(const std::string& source) const {
  v1::ReadyResponse r;
  if (audit_->stats().failing) {
    r.set_reason("the audit log cannot be written");
    return r;
  }
  for (const auto& s : subscribers_) {
    if (s->daemon() != source) continue;
    if (!s->status().connected) {
      r.set_reason(absl::StrCat("monitord is not following ", source, " now: ", s->status().last_error));
      return r;
    }
    r.set_ready(true);
    return r;
  }
  r.set_reason(absl::StrCat("monitord does not follow ", source, " (not in its sources)"));
  return r;
}

v1::StatsResponse Monitor::Stats() const {
  v1::StatsResponse out;
  for (const auto& s : subscribers_) {
    const SourceSubscriber::Status st = s->status();
    v1::SourceStats* o = out.add_sources();
    o->set_source(s->daemon());
    o->set_connected(st.connected);
    o->set_events(st.events);
    o->set_lost_records(st.lost_records);
    o->set_reconnects(st.reconnects);
    o->set_epoch(st.cursor.epoch);
    o->set_sequence(st.cursor.sequence);
    o->set_last_error(st.last_error);
    o->set_lost_events(st.lost_events);
  }
  {
    absl::MutexLock lock(&mu_);
    for (v1::SourceStats& o : *out.mutable_sources()) {
      auto it = counts_.find(o.source());
      if (it == counts_.end()) continue;
      o.set_recorded(it->second.recorded);
      o.set_alerts(it->second.alerts);
    }
    out.set_queued(queue_.size());
  }
  out.set_events_evaluated(evaluated_);
  out.set_alerts(fired_);
  out.set_rule_eval_ns_mean(evaluated_ == 0 ? 0 : eval_ns_ / evaluated_);
  const AuditStats a = audit_->stats();
  out.set_audit_records(a.records);
  out.set_audit_lost(a.lost);
  out.set_audit_commit_ns(static_cast<uint64_t>(absl::ToInt64Nanoseconds(a.last_commit)));
  out.set_audit_commit_ns_max(static_cast<uint64_t>(absl::ToInt64Nanoseconds(a.max_commit)));
  out.set_audit_commit_ns_mean(
      a.commits == 0 ? 0 : static_cast<uint64_t>(absl::ToInt64Nanoseconds(a.all_commits)) / a.commits);
  out.set_audit_failing(a.failing);
  out.set_rules(rules_count_);
  return out;
}

}  // namespace secureos::monitord
