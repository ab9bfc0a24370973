#include "tests/suite.h"

#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/raw_rpc.h"

namespace secureos::test {
namespace {

std::atomic<int> suite_count{0};

std::string Server(uint32_t event_ring_capacity) {
  return absl::StrCat("server { socket_mode: \"0666\" peer_uids: ", kPeerUid, " event_ring_capacity: ",
                      event_ring_capacity, " shutdown_timeout_ms: 2000 }\n");
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    }
    ::closedir(d);
  }
  return out;
}

std::vector<pid_t> ProcsIn(const std::string& cgroup_dir) {
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(cgroup_dir + "/cgroup.procs"), '\n')) {
    pid_t pid;
    if (absl::SimpleAtoi(line, &pid)) pids.push_back(pid);
  }
  return pids;
}

// The cgroup mounts: /sys/fs/cgroup itself on a pure v2 host, its subdirectories otherwise.
std::vector<std::string> CgroupMounts() {
  if (!ReadFileOrEmpty("/sys/fs/cgroup/cgroup.controllers").empty() ||
      ::access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0) {
    return {"/sys/fs/cgroup"};
  }
  std::vector<std::string> out;
  for (const std::string& e : Entries("/sys/fs/cgroup")) out.push_back("/sys/fs/cgroup/" + e);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(const SuiteOptions& options) {
  std::unique_ptr<Suite> suite(new Suite());
  suite->cgroups_ = absl::StrCat("secureos-test/suite-", ::getpid(), "-", suite_count++);
  InstallSecctl(suite->root_);
  if (absl::Status s = suite->WriteConfigs(options); !s.ok()) return s;
  for (const char* d : kDaemons) {
    if (absl::Status s = suite->StartOne(d); !s.ok()) return s;
  }
  return suite;
}

Suite::~Suite() {
  if (stopped_) return;
  for (const std::string& left : Stop()) std::cerr << "suite: left behind: " << left << "\n";
}

absl::Status Suite::WriteConfigs(const SuiteOptions& options) {
  const std::string server = Server(options.event_ring_capacity);
  std::map<std::string, std::string> conf = {
      {"capd", server + "drift_check_interval_seconds: 60\n"
                        "grantable_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service,cap_net_raw\"\n"
                        "container_default_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service\"\n"},
      {"sandboxd", absl::StrCat(server, "workload_uid: 65534\nid_map_count: 1\ncgroup_parent: \"", cgroups_,
                                "/sbx\"\ncontainer_id_start: 1000000\ncontainer_id_count: 131072\n")},
      {"containerd-lite", server + "subuid_file: \"etc/secureos/pool\"\nsubgid_file: \"etc/secureos/pool\"\n"
                                   "state_dir: \"run/ctr\"\ncompliance { mode: COMPLIANCE_MODE_WARN }\n"},
      {"svcd", absl::StrCat(server, "services_dir: \"etc/secureos/services\"\nlog_dir: \"var/log/services\"\n"
                                    "log_max_bytes: 65536\nlog_files_kept: 1\ncgroup_parent: \"", cgroups_, "/svc\"\n")},
      {"monitord", server + "sources: \"capd\" sources: \"sandboxd\" sources: \"containerd-lite\" sources: "
                            "\"svcd\"\nstate_dir: \"var/lib/monitord\"\n"},
  };
  for (auto& [daemon, text] : conf) {
    auto extra = options.extra_config.find(daemon);
    if (extra != options.extra_config.end()) absl::StrAppend(&text, extra->second, "\n");
    WriteFileOrDie(root_ / ("etc/secureos/" + daemon + ".conf"), text);
  }
  WriteFileOrDie(root_ / "etc/secureos/pool", "test:1000000:131072\n");
  ::mkdir((root_ / "etc/secureos/services").c_str(), 0755);
  return absl::OkStatus();
}

absl::Status Suite::StartOne(const std::string& daemon) {
  SpawnOptions o;
  o.stderr_path = root_ / (daemon + ".log");
  // Appended: a restart keeps the earlier run's log.
  o.append_stderr = true;
  absl::StatusOr<Child> child = Child::Start({Runfile(daemon + "/" + daemon), "--root", root_.path()}, o);
  if (!child.ok()) return child.status();
  children_[daemon].emplace(std::move(*child));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (Healthy(daemon, absl::Milliseconds(500))) return absl::OkStatus();
    if (std::optional<int> status = children_[daemon]->Wait(absl::ZeroDuration())) {
      children_[daemon].reset();
      return absl::UnavailableError(absl::StrCat(daemon, " exited during start-up (status ", *status, "):\n",
                                                 ReadFileOrEmpty(o.stderr_path)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(daemon + " did not answer Health within 20 s:\n" + ReadFileOrEmpty(o.stderr_path));
}

std::string Suite::Socket(const std::string& daemon) const { return root_ / ("run/secureos/" + daemon + ".sock"); }

std::string Suite::CgroupParent(const std::string& daemon) const {
  return cgroups_ + (daemon == "svcd" ? "/svc" : "/sbx");
}

pid_t Suite::Pid(const std::string& daemon) const {
  auto it = children_.find(daemon);
  return it == children_.end() || !it->second.has_value() ? -1 : it->second->pid();
}

RunResult Suite::Secctl(const std::vector<std::string>& args, std::optional<uid_t> uid) const {
  return RunSecctl(root_, args, uid);
}

bool Suite::Healthy(const std::string& daemon, absl::Duration timeout) const {
  const google::protobuf::ServiceDescriptor* service = ServiceOf(daemon);
  if (service == nullptr || service->FindMethodByName("Health") == nullptr) return false;
  return CallRaw(Socket(daemon), *service->FindMethodByName("Health"), "", timeout).code == grpc::StatusCode::OK;
}

absl::Status Suite::Signal(const std::string& daemon, int signal) {
  auto it = children_.find(daemon);
  if (it == children_.end() || !it->second.has_value()) return absl::FailedPreconditionError(daemon + " is not running");
  if (!it->second->Signal(signal)) return absl::InternalError(absl::StrCat("kill ", daemon));
  if (signal == SIGKILL || signal == SIGTERM) {
    if (!it->second->Wait(absl::Seconds(10)).has_value()) {
      return absl::DeadlineExceededError(daemon + " did not end within 10 s");
    }
    it->second.reset();
  }
  return absl::OkStatus();
}

absl::Status Suite::Restart(const std::string& daemon) {
  auto it = children_.find(daemon);
  if (it != children_.end() && it->second.has_value()) {
    if (absl::Status s = Signal(daemon, SIGTERM); !s.ok()) return s;
  }
  return StartOne(daemon);
}

std::vector<std::string> Suite::Stop() {
  stopped_ = true;
  for (auto d = kDaemons.rbegin(); d != kDaemons.rend(); ++d) {
    auto it = children_.find(*d);
    if (it == children_.end() || !it->second.has_value()) continue;
    it->second->Signal(SIGTERM);
    if (!it->second->Wait(absl::Seconds(10)).has_value()) it->second->Signal(SIGKILL);
    it->second.reset();  // Kills and reaps whatever is still there.
  }
  std::vector<std::string> left = Leftovers();
  RemoveCgroups();
  return left;
}

std::vector<std::string> Suite::Leftovers() const {
  std::vector<std::string> left;
  const std::string cgroup_marker = "/" + cgroups_ + "/";
  for (const std::string& e : Entries("/proc")) {
    pid_t pid;
    if (!absl::SimpleAtoi(e, &pid) || pid == ::getpid()) continue;
    std::string cmdline = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/cmdline"));
    absl::StrReplaceAll({{std::string(1, '\0'), " "}}, &cmdline);
    if (absl::StrContains(cmdline, root_.path() + " ") || absl::EndsWith(cmdline, root_.path() + " ") ||
        absl::StrContains(ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/cgroup")), cgroup_marker)) {
      left.push_back(absl::StrCat("process ", pid, ": ", cmdline));
    }
  }
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty("/proc/self/mountinfo"), '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() > 4 && absl::StartsWith(f[4], root_.path())) left.push_back(absl::StrCat("mount ", f[4]));
  }
  for (const std::string& mount : CgroupMounts()) {
    for (const char* sub : {"/sbx", "/svc"}) {
      const std::string dir = absl::StrCat(mount, "/", cgroups_, sub);
      for (const std::string& leaf : Entries(dir)) {
        if (::access((dir + "/" + leaf + "/cgroup.procs").c_str(), F_OK) != 0) continue;
        left.push_back(absl::StrCat("cgroup ", dir, "/", leaf, " (", ProcsIn(dir + "/" + leaf).size(), " processes)"));
      }
    }
  }
  for (const char* d : kDaemons) {
    if (::access(Socket(d).c_str(), F_OK) == 0) left.push_back("socket " + Socket(d));
  }
  for (const std::string& dev : Entries("/sys/class/net")) {
    if (absl::StartsWith(dev, "sv")) left.push_back("network interface " + dev);
  }
  return left;
}

void Suite::RemoveCgroups() const {
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty("/proc/self/mountinfo"), '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() > 4 && absl::StartsWith(f[4], root_.path())) ::umount2(std::string(f[4]).c_str(), MNT_DETACH);
  }
  RemoveCgroupEverywhere(cgroups_ + "/sbx");
  RemoveCgroupEverywhere(cgroups_ + "/svc");
  RemoveCgroupEverywhere(cgroups_);
}

std::string Suite::BusyboxBundle(const std::string& name, int sleep_seconds) const {
  const std::string b = root_ / name;
  WriteFileOrDie(b + "/rootfs/bin/busybox", ReadFileOrEmpty("/bin/busybox"), 0755);
  for (const char* d : {"proc", "dev", "sys", "tmp"}) WriteFileOrDie(absl::StrCat(b, "/rootfs/", d, "/.keep"), "");
  ::symlink("busybox", (b + "/rootfs/bin/sleep").c_str());
  RunProcess({"/usr/bin/crun", "spec", "--bundle", b});
  std::string json = ReadFileOrEmpty(b + "/config.json");
  absl::StrReplaceAll({{"\"terminal\": true", "\"terminal\": false"},
                       {"\"sh\"\n", absl::StrCat("\"sleep\", \"", sleep_seconds, "\"\n")}},
                      &json);
  WriteFileOrDie(b + "/config.json", json);
  return b;
}

std::string Suite::Logs() const {
  std::string out;
  for (const char* d : kDaemons) absl::StrAppend(&out, "--- ", d, " log:\n", ReadFileOrEmpty(root_ / absl::StrCat(d, ".log")));
  return out;
}

}  // namespace secureos::test
