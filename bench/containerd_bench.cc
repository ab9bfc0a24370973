// containerd-lite create+start+wait+delete of a busybox `true` container, side by side with
// the OCI runtimes on the same bundle (made by `crun spec`, only args changed), in one run,
// interleaved:
//   containerd-lite Run         one RPC: create, start, wait, delete (and the id ranges, the
//                               compliance check, the record), request to the end of the stream
//   secctl ctr run              the shipped CLI: wall time of the process
//   crun run                    Debian's crun 1.8.1
//   runc run                    Debian's runc 1.1.5
// Needs root, cgroups and namespaces. Runs in a private mount namespace without the host's
// cgroup2 mount (crun 1.8.1 refuses hybrid hosts, and runc warns), where it starts capd,
// sandboxd and containerd-lite on a temporary root; everything is removed at the end.
// Prints median, p10, p90 and the ratio to crun as a markdown table.
// Run: bazel run -c opt //bench:containerd_bench [-- --rounds N]
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "common/atomic_file.h"
#include "common/fd.h"
#include "common/status.h"
#include "proto/containerd_lite.grpc.pb.h"

ABSL_FLAG(int, rounds, 100, "Measured iterations of each case (after 10 warm-up ones).");

namespace secureos::bench {
namespace {

namespace v1 = ::secureos::containerd_lite::v1;

constexpr int kWarmUp = 10;
// Quiet time before every run, as an isolated start would have (see sandboxd_bench: a cgroup
// v1 attach waits for an RCU grace period unless another one just happened).
constexpr absl::Duration kSettle = absl::Milliseconds(50);
constexpr uint32_t kPoolStart = 6000000;

std::string Server() {
  return "server { socket_mode: \"0600\" event_ring_capacity: 4096 shutdown_timeout_ms: 2000 }\n";
}

std::map<std::string, std::string> Configs(const std::string& cgroup_parent) {
  const std::string pool = absl::StrCat("bench:", kPoolStart, ":", 65536 * 4, "\n");
  return {
      {"capd.conf", Server() + "drift_check_interval_seconds: 3600\n"
                               "grantable_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service\"\n"
                               "container_default_capabilities: \"cap_audit_write,cap_kill,cap_net_bind_service\"\n"},
      {"sandboxd.conf", absl::StrCat(Server(), "workload_uid: 65534\nid_map_count: 1\ncgroup_favor_dynmods: true\n"
                                               "cgroup_parent: \"", cgroup_parent, "/sbx\"\ncontainer_id_start: ",
                                     kPoolStart, "\ncontainer_id_count: ", 65536 * 4, "\n")},
      {"containerd-lite.conf", Server() + "subuid_file: \"etc/secureos/pool\"\nsubgid_file: \"etc/secureos/pool\"\n"
                                          "compliance { mode: COMPLIANCE_MODE_WARN }\nstate_dir: \"run/ctr\"\n"},
      {"pool", pool},
  };
}

// A busybox rootfs and `crun spec`'s config.json with args ["true"] and no terminal.
absl::StatusOr<std::string> MakeBundle(const std::string& dir) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(dir + "/rootfs/bin", 0755));
  for (const char* d : {"/proc", "/dev", "/sys", "/tmp"}) SECUREOS_RETURN_IF_ERROR(MakeDirs(dir + "/rootfs" + d, 0755));
  SECUREOS_ASSIGN_OR_RETURN(std::string busybox, ReadFile("/bin/busybox", 64 << 20));
  SECUREOS_RETURN_IF_ERROR(WriteFileAtomically(dir + "/rootfs/bin/busybox", busybox, 0755, Durability::kProcessCrash));
  for (const char* applet : {"true", "sh"}) {
    if (::symlink("busybox", (dir + "/rootfs/bin/" + applet).c_str()) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, absl::StrCat("symlink ", applet));
    }
  }
  SECUREOS_ASSIGN_OR_RETURN(pid_t spec, Spawn({"/usr/bin/crun", "spec", "--bundle", dir}));
  SECUREOS_RETURN_IF_ERROR(WaitOk(spec, "crun spec"));
  // Edited as text: protobuf's JSON would print rlimits' 64-bit numbers as strings, which
  // containerd-lite reads but crun and runc do not.
  SECUREOS_ASSIGN_OR_RETURN(std::string json, ReadFile(dir + "/config.json"));
  const int replaced = absl::StrReplaceAll({{"\"terminal\": true", "\"terminal\": false"},
                                            {"\"args\": [\n\t\t\t\"sh\"\n\t\t]", "\"args\": [\"true\"]"}},
                                           &json);
  if (replaced != 2) return absl::InternalError("crun spec's config.json is not as expected (terminal, args)");
  SECUREOS_RETURN_IF_ERROR(WriteFileAtomically(dir + "/config.json", json, 0644, Durability::kProcessCrash));
  return dir;
}

// One containerd-lite Run of `bundle` as container `id`, to the end of the stream.
absl::StatusOr<double> TimeRunMs(v1::ContainerdLite::Stub* stub, const std::string& bundle, const std::string& id) {
  v1::RunRequest req;
  req.mutable_create()->set_id(id);
  req.mutable_create()->set_bundle(bundle);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const absl::Time start = absl::Now();
  auto reader = stub->Run(&ctx, req);
  v1::RunEvent e;
  int code = -1;
  while (reader->Read(&e)) {
    if (e.has_exited()) code = e.exited().exit_code();
  }
  grpc::Status s = reader->Finish();
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  if (!s.ok()) return absl::InternalError("containerd-lite Run: " + s.error_message());
  if (code != 0) return absl::InternalError(absl::StrCat("containerd-lite Run: exit code ", code));
  return ms;
}

// crun 1.8.1 refuses a hybrid cgroup host: this process and everything it starts live in a
// mount namespace of their own without the cgroup2 mount.
absl::Status PrivateMountsWithoutCgroup2() {
  if (::unshare(CLONE_NEWNS) != 0) return ErrnoToStatus(errno, "unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return ErrnoToStatus(errno, "make / private");
  (void)::umount2("/sys/fs/cgroup/unified", MNT_DETACH);  // Absent on a pure v1 or v2 host.
  return absl::OkStatus();
}

struct Case {
  std::string label;  // For ratios.
  std::string name;
  Role role;
  std::function<absl::StatusOr<double>(int round)> run;
  std::vector<double> ms;
};

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  if (absl::Status s = PrivateMountsWithoutCgroup2(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  const std::string cgroup_parent = absl::StrCat("secureos-bench/ctr-", ::getpid());
  absl::StatusOr<std::unique_ptr<Suite>> suite =
      Suite::Start({"capd", "sandboxd", "containerd-lite"}, Configs(cgroup_parent), cgroup_parent);
  if (!suite.ok()) {
    std::fprintf(stderr, "start: %s\n", std::string(suite.status().message()).c_str());
    return 1;
  }
  const std::string root = (*suite)->root();
  absl::StatusOr<std::string> bundle = MakeBundle(root + "/bundle");
  if (!bundle.ok()) {
    std::fprintf(stderr, "bundle: %s\n", std::string(bundle.status().message()).c_str());
    return 1;
  }
  auto stub = v1::ContainerdLite::NewStub(
      grpc::CreateChannel("unix:" + (*suite)->Socket("containerd-lite"), grpc::InsecureChannelCredentials()));
  const std::string secctl = Runfile("cli/secctl");
  std::vector<Case> cases = {
      {"containerd-lite Run", "containerd-lite Run (create+start+wait+delete)", Role::kOurs,
       [&](int r) { return TimeRunMs(stub.get(), *bundle, absl::StrCat("g", r)); }, {}},
      {"secctl", "secctl ctr run (the CLI process)", Role::kOurs,
       [&](int r) {
         return TimeCommandMs({secctl, "--root", root, "ctr", "run", absl::StrCat("s", r), "--bundle", *bundle},
                              root + "/secctl.err");  // It prints the PSS-B-004 warning.
       }, {}},
      // Their state directories under the bench's root (removed with it).
      {"crun", "crun run (1.8.1; private mount ns without the cgroup2 mount: it refuses hybrid hosts)", Role::kPeer,
       [&](int r) {
         return TimeCommandMs({"/usr/bin/crun", "--root", root + "/crun", "run", "--bundle", *bundle, absl::StrCat("c", r)});
       }, {}},
      {"runc", "runc run (1.1.5; the same mount ns)", Role::kPeer, [&](int r) {
         return TimeCommandMs({"/usr/sbin/runc", "--root", root + "/runc", "run", "--bundle", *bundle, absl::StrCat("r", r)});
       }, {}},
  };
  for (int r = 0; r < kWarmUp + rounds; ++r) {
    for (Case& c : cases) {
      absl::SleepFor(kSettle);
      absl::StatusOr<double> ms = c.run(r);
      if (!ms.ok()) {
        std::fprintf(stderr, "%s: %s\n%s\n", c.name.c_str(), std::string(ms.status().message()).c_str(),
                     (*suite)->Log("containerd-lite").c_str());
        return 1;
      }
      if (r >= kWarmUp) c.ms.push_back(*ms);
    }
  }
  const double crun = Pct(cases[2].ms, 0.5);
  std::printf("busybox `true` from a `crun spec` bundle, %d rounds, %s\n\n", rounds, "interleaved");
  std::printf("| case | median ms | p10 ms | p90 ms | median vs crun |\n|---|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    std::printf("| %s | %.2f | %.2f | %.2f | %.2fx |\n", c.name.c_str(), Pct(c.ms, 0.5), Pct(c.ms, 0.1), Pct(c.ms, 0.9),
                Pct(c.ms, 0.5) / crun);
    if (absl::Status r = Record({"container create+start+wait+delete (busybox true)", c.label, c.name, "ms", c.role, c.ms});
        !r.ok()) {
      std::fprintf(stderr, "%s\n", std::string(r.message()).c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace secureos::bench

int main(int argc, char** argv) { return secureos::bench::Main(argc, argv); }
