#include "cli/commands.h"

#include <unistd.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/daemon_client.h"
#include "cli/exit_codes.h"
#include "cli/next_step.h"
#include "cli/table.h"
#include "common/paths.h"
#include "common/version.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace secureos::cli {

using google::protobuf::Struct;
using google::protobuf::util::MessageToJsonString;

std::string ResolveCommand(const std::string& cmd) {
  if (cmd.find('/') != std::string::npos) {
    if (cmd[0] == '/') return cmd;
    char buf[4096];
    return getcwd(buf, sizeof(buf)) ? absl::StrCat(buf, "/", cmd) : cmd;
  }
  for (absl::string_view dir : absl::StrSplit("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    std::string p = absl::StrCat(dir, "/", cmd);
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return cmd;
}

std::string JsonOf(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)MessageToJsonString(m, &out, o);
  return out;
}

int QuietOk(const Options& options, const google::protobuf::Message& response, std::ostream& out) {
  if (options.json) out << JsonOf(response) << "\n";
  return kExitOk;
}

int FailCall(std::ostream& err, const std::string& what, const absl::Status& s,
             const std::string& daemon) {
  err << "secctl: " << what << ": " << s.message() << NextStep(s, daemon) << "\n";
  return ExitCodeFor(s);
}

std::string SocketFor(const Options& options, const std::string& daemon) {
  return UnderRoot(options.root, DefaultSocket(daemon));
}

namespace {

// Converts a message into a Struct value so that it can sit inside a larger JSON document.
void PutMessage(Struct* parent, const std::string& key, const google::protobuf::Message& m) {
  google::protobuf::util::JsonParseOptions o;
  (void)google::protobuf::util::JsonStringToMessage(
      JsonOf(m), (*parent->mutable_fields())[key].mutable_struct_value(), o);
}

void Fail(std::ostream& err, const std::string& what, const absl::Status& status) {
  err << "secctl: " << what << ": " << status.message() << NextStep(status, "") << "\n";
}

std::string Uptime(double seconds) {
  if (seconds < 1) return "0s";  // FormatDuration prints a bare "0".
  return absl::FormatDuration(absl::Seconds(std::floor(seconds)));
}

}  // namespace

int RunVersion(const Options& options, std::ostream& out) {
  common::v1::VersionResponse v;
  v.set_daemon("secctl");
  v.set_version(kSuiteVersion);
  v.set_api(kApiVersion);
  if (options.json) {
    out << JsonOf(v) << "\n";
  } else {
    out << "secctl " << v.version() << " (api " << v.api() << ")\n";
  }
  return kExitOk;
}

int RunStatus(const Options& options, const std::vector<std::string>& daemons,
              std::ostream& out, std::ostream& err) {
  Table table({"DAEMON", "STATE", "VERSION", "PID", "UPTIME", "SOCKET"});
  google::protobuf::ListValue list;
  bool all_up = true;
  for (const std::string& daemon : daemons) {
    const std::string socket = SocketFor(options, daemon);
    Struct row;
    auto& fields = *row.mutable_fields();
    fields["daemon"].set_string_value(daemon);
    fields["socket"].set_string_value(socket);
    absl::StatusOr<DaemonClient*> client =
        ConnectDaemon(daemon, socket, options.timeout);
    // One call per daemon: Health carries the version too.
    absl::StatusOr<common::v1::HealthResponse> health =
        client.ok() ? (*client)->Health() : client.status();
    const bool up = health.ok() && health->status() == common::v1::SERVING_STATUS_SERVING;
    all_up = all_up && up;
    fields["up"].set_bool_value(up);
    if (!health.ok()) {
      fields["error"].set_string_value(std::string(health.status().message()));
      table.AddRow({daemon, "down", "-", "-", "-", socket});
      if (!options.json) err << "secctl: " << daemon << ": " << health.status().message() << "\n";
    } else {
      PutMessage(&row, "health", *health);
      table.AddRow({daemon, up ? "up" : "stopping", health->version(),
                    absl::StrCat(health->pid()), Uptime(health->uptime_seconds()), socket});
    }
    *list.add_values()->mutable_struct_value() = row;
  }
  if (options.json) {
    out << JsonOf(list) << "\n";
  } else {
    table.Print(out);
  }
  return all_up ? kExitOk : kExitUnavailable;
}

int RunReload(const Options& options, const std::string& daemon, std::ostream& out,
              std::ostream& err) {
  absl::StatusOr<DaemonClient*> client =
      ConnectDaemon(daemon, SocketFor(options, daemon), options.timeout);
  absl::StatusOr<common::v1::ReloadResponse> response =
      client.ok() ? (*client)->Reload() : client.status();
  if (!response.ok()) {
    Fail(err, absl::StrCat("reload ", daemon), response.status());
    return ExitCodeFor(response.status());
  }
  if (options.json) {
    out << JsonOf(*response) << "\n";
  } else {
    out << daemon << ": configuration reloaded from " << response->path() << "\n";
  }
  return kExitOk;
}

namespace {

void PrintEvent(const Options& options, const common::v1::SubscribeResponse& record,
                std::ostream& out) {
  if (options.json) {
    out << JsonOf(record) << "\n";
    return;
  }
  if (record.has_lost()) {
    out << "-- " << record.lost().count() << " events lost from sequence "
        << record.lost().from_sequence() << " --\n";
    return;
  }
  const common::v1::Event& e = record.event();
  out << absl::StrFormat(
      "%-6d %s  %-8s %-24s %-10s %s\n", e.sequence(),
      google::protobuf::util::TimeUtil::ToString(e.time()),
      absl::StripPrefix(common::v1::Severity_Name(e.severity()), "SEVERITY_"),
      absl::StripPrefix(common::v1::EventKind_Name(e.kind()), "EVENT_KIND_"),
      e.principal().id(), e.message());
  std::flush(out);
}

}  // namespace

int RunEvents(const Options& options, const std::string& daemon, const EventsOptions& events,
              std::ostream& out, std::ostream& err) {
  absl::StatusOr<DaemonClient*> client =
      ConnectDaemon(daemon, SocketFor(options, daemon), options.timeout);
  absl::StatusOr<common::v1::HealthResponse> health =
      client.ok() ? (*client)->Health() : client.status();
  if (!health.ok()) {
    Fail(err, absl::StrCat("events ", daemon), health.status());
    return ExitCodeFor(health.status());
  }
  common::v1::SubscribeRequest request;
  request.set_from_sequence(events.from.value_or(1));
  request.set_epoch(health->epoch());
  // Without --follow, stop at the last event that existed when we asked.
  const uint64_t last = health->next_sequence() - 1;
  if (!events.follow && request.from_sequence() > last) return kExitOk;
  absl::Status status = (*client)->Subscribe(
      request, [&](const common::v1::SubscribeResponse& record) {
        PrintEvent(options, record, out);
        if (events.follow) return true;
        const uint64_t reached = record.has_event()
                                     ? record.event().sequence()
                                     : record.lost().from_sequence() + record.lost().count() - 1;
        return reached < last;
      });
  if (!status.ok()) {
    Fail(err, absl::StrCat("events ", daemon), status);
    return ExitCodeFor(status);
  }
  return kExitOk;
}

}  // namespace secureos::cli
