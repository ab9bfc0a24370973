#include "common/daemon_main.h"

#include <linux/capability.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_server.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/privileges.h"
#include "common/run_end.h"
#include "common/server_config.h"
#include "common/status.h"
#include "common/version.h"

ABSL_FLAG(std::string, root, "/", "Prefix of every path the daemon uses.");
ABSL_FLAG(std::string, config, "",
          "Configuration file (default <root>/etc/secureos/<daemon>.conf; the embedded default "
          "is used when it does not exist).");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");
ABSL_FLAG(bool, print_default_config, false, "Print the embedded default configuration and exit.");
ABSL_FLAG(bool, check_config, false,
          "Validate the configuration the daemon would start with (--config, or the default "
          "path, or the embedded default) and exit: 0 and its source when valid, 1 and every "
          "error otherwise. Nothing else is done.");

namespace secureos {

using common::v1::ServerConfig;
using google::protobuf::Message;

absl::StatusOr<const ServerConfig*> ServerBlock(const Message& config) {
  const auto* field = config.GetDescriptor()->FindFieldByName("server");
  if (field == nullptr || field->message_type() != ServerConfig::descriptor()) {
    return absl::InternalError(absl::StrCat(config.GetDescriptor()->full_name(),
                                            " has no `server` field of type ServerConfig"));
  }
  return static_cast<const ServerConfig*>(&config.GetReflection()->GetMessage(config, field));
}

namespace {

void ValidateWithServer(const DaemonSpec& spec, const Message* running, const Message& next,
                        FieldErrors* errors) {
  absl::StatusOr<const ServerConfig*> server = ServerBlock(next);
  if (!server.ok()) {
    errors->Add("server", server.status().message());
    return;
  }
  if (!next.GetReflection()->HasField(next, next.GetDescriptor()->FindFieldByName("server"))) {
    errors->Add("server", "required");
  }
  ValidateServerConfig(**server, "server.", errors);
  if (running != nullptr) CheckServerConfigReload(**ServerBlock(*running), **server, "server.", errors);
  if (spec.validate) spec.validate(running, next, errors);
}

void Notify(const std::string& state) {
  // sd_notify is a no-op without NOTIFY_SOCKET; failures there are not ours to act on.
  sd_notify(0, state.c_str());
}

absl::StatusOr<UnixListener::Options> SocketOptions(const std::string& root,
                                                    const std::string& daemon,
                                                    const ServerConfig& server) {
  UnixListener::Options o;
  o.path = UnderRoot(root, server.socket().empty() ? DefaultSocket(daemon) : server.socket());
  SECUREOS_ASSIGN_OR_RETURN(o.mode, ParseSocketMode(server.socket_mode()));
  SECUREOS_ASSIGN_OR_RETURN(o.owner, ResolveUser(server.socket_owner(), ::geteuid()));
  SECUREOS_ASSIGN_OR_RETURN(o.group, ResolveGroup(server.socket_group(), ::getegid()));
  return o;
}

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Waits for signals; returns when asked to stop.
void SignalLoop(DaemonCore& core) {
  sigset_t set = HandledSignals();
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue;  // EINTR.
    if (sig == SIGHUP) {
      Notify("RELOADING=1");
      (void)core.Reload("signal:SIGHUP");
      Notify("READY=1");
      continue;
    }
    Log(LogLevel::kInfo, "stopping", {{"signal", strsignal(sig)}, {"from_pid", absl::StrCat(info.si_pid)}});
    return;
  }
}

common::v1::Event LifecycleEvent(common::v1::EventKind kind, const std::string& root,
                                 const std::string& message) {
  common::v1::Event event;
  event.set_kind(kind);
  event.set_severity(common::v1::SEVERITY_INFO);
  event.set_message(message);
  event.mutable_principal()->set_id(absl::StrCat("uid:", ::geteuid()));
  event.mutable_lifecycle()->set_version(kSuiteVersion);
  event.mutable_lifecycle()->set_root(root);
  return event;
}

ConfigStore MakeConfigStore(const DaemonSpec& spec, const std::string& config_path) {
  return ConfigStore(config_path, spec.embedded_config, *spec.config_prototype,
                     [&spec](const Message* running, const Message& next, FieldErrors* errors) {
                       ValidateWithServer(spec, running, next, errors);
                     });
}

int CheckConfig(const DaemonSpec& spec, const std::string& config_path) {
  ConfigStore config = MakeConfigStore(spec, config_path);
  absl::StatusOr<std::string> source = config.Load();
  if (!source.ok()) {
    std::cerr << spec.name << ": invalid configuration: " << source.status().message() << "\n";
    return 1;
  }
  std::cout << spec.name << ": configuration valid: " << *source << "\n";
  return 0;
}

int Run(const DaemonSpec& spec, const std::string& root, const std::string& config_path) {
  ConfigStore config = MakeConfigStore(spec, config_path);
  absl::StatusOr<std::string> source = config.Load();
  if (!source.ok()) {
    Log(LogLevel::kError, "invalid configuration", {{"error", std::string(source.status().message())}});
    return 1;
  }
  if (spec.confine) {
    if (absl::Status s = spec.confine(*config.current()); !s.ok()) {
      Log(LogLevel::kError, "cannot confine the daemon", {{"error", std::string(s.message())}});
      return 1;
    }
  }
  const ServerConfig server_config = **ServerBlock(*config.current());
  EventRing events(spec.name, server_config.event_ring_capacity());
  AccessPolicy policy(server_config);
  config.AddObserver([&policy](const Message& applied) { policy.Update(**ServerBlock(applied)); });
  UdsGrpcServer server(&policy, &events);
  DaemonCore core(spec.name, root, &config, &events, &server);

  absl::StatusOr<std::vector<ServiceEntry>> services = spec.make_services(core);
  absl::Status status = services.status();
  for (size_t i = 0; status.ok() && i < services->size(); ++i) {
    ServiceEntry& e = (*services)[i];
    status = server.AddService(e.service.get(), *e.descriptor, e.access);
  }
  absl::StatusOr<UnixListener::Options> socket = SocketOptions(root, spec.name, server_config);
  if (status.ok()) status = socket.status();
  if (status.ok()) status = server.Start(*socket);
  if (!status.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", std::string(status.message())}});
    return 1;
  }
  const std::string state_dir = StateDir(root, spec.name);
  common::v1::Event started = LifecycleEvent(common::v1::EVENT_KIND_DAEMON_STARTED, root,
                                             absl::StrCat(spec.name, " ", kSuiteVersion, " serving"));
  if (std::optional<common::v1::RunEnd> previous = TakeRunEnd(state_dir)) {
    *started.mutable_lifecycle()->mutable_previous() = *previous;
  }
  events.Publish(std::move(started));
  Log(LogLevel::kInfo, "serving",
      {{"socket", socket->path}, {"config", *source}, {"version", kSuiteVersion}});
  Notify(absl::StrCat("READY=1\nSTATUS=serving on ", socket->path, "\nMAINPID=", ::getpid()));

  SignalLoop(core);

  Notify("STOPPING=1");
  core.SetStopping();
  events.Publish(LifecycleEvent(common::v1::EVENT_KIND_DAEMON_STOPPING, root,
                                absl::StrCat(spec.name, " stopping")));
  events.Close();
  const auto timeout = absl::Milliseconds((**ServerBlock(*config.current())).shutdown_timeout_ms());
  server.Shutdown(absl::Now() + timeout);
  // After every call has finished: a call that completed during the shutdown published its
  // event after the stopping one, and counts.
  if (absl::Status s = SaveRunEnd(state_dir, events.epoch(), events.next_sequence() - 1); !s.ok()) {
    Log(LogLevel::kWarning, "save where the events ended", {{"error", std::string(s.message())}});
  }
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int DaemonMain(int argc, char** argv, const DaemonSpec& spec) {
  // Before anything can start a thread: every thread inherits this mask.
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::SetProgramUsageMessage(absl::StrCat("SecureOS ", spec.name, " ", kSuiteVersion));
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << spec.name << ": unexpected argument \"" << rest[1] << "\" (see --help)\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_print_default_config)) {
    std::cout << spec.embedded_config;
    return 0;
  }
  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::cerr << spec.name << ": --log_level: must be debug, info, warning or error, got \""
              << absl::GetFlag(FLAGS_log_level) << "\"\n";
    return 2;
  }
  InitLogging(spec.name, level);
  const std::string root = absl::GetFlag(FLAGS_root);
  if (root.empty() || root[0] != '/') {
    std::cerr << spec.name << ": --root: must be an absolute path, got \"" << root << "\"\n";
    return 2;
  }
  std::string config_path = absl::GetFlag(FLAGS_config);
  if (config_path.empty()) config_path = ConfigPath(root, spec.name);
  if (absl::GetFlag(FLAGS_check_config)) return CheckConfig(spec, config_path);
  if (!spec.keeps_setpcap) {
    // Still single-threaded: capabilities are per thread, and every later thread inherits
    // this thread's sets.
    if (absl::Status s = DropCapabilityEverywhere(CAP_SETPCAP); !s.ok()) {
      Log(LogLevel::kError, "refusing to run: cannot give up CAP_SETPCAP (only capd may hold it)",
          {{"error", std::string(s.message())}});
      return 1;
    }
  }
  return Run(spec, root, config_path);
}

}  // namespace secureos
