// A real daemon (capd) on a temporary root, driven through secctl and a raw gRPC client:
// per-method authorization by SO_PEERCRED, socket mode independent of the umask, one
// instance per socket, request validation, reload semantics, clean shutdown.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/capd.grpc.pb.h"
#include "tests/process.h"

namespace secureos::test {
namespace {

using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;

std::string Config(const std::string& mode, const std::string& extra = "") {
  return absl::StrCat("server {\n  socket_mode: \"", mode,
                      "\"\n  event_ring_capacity: 256\n  shutdown_timeout_ms: 2000\n", extra,
                      "}\ndrift_check_interval_seconds: 30\ngrantable_capabilities: \"cap_kill\"\n");
}

class CapdTest : public ::testing::Test {
 protected:
  // secctl must be executable by uid 65534, which cannot reach the runfiles tree.
  void SetUp() override { InstallSecctl(root_); }

  std::string socket() const { return root_ / "run/secureos/capd.sock"; }
  std::string config_path() const { return root_ / "etc/secureos/capd.conf"; }

  // Starts capd; returns false when its socket does not appear.
  bool StartCapd(const std::string& config, std::optional<mode_t> umask = std::nullopt,
                 std::vector<std::string> env = {}) {
    WriteFileOrDie(config_path(), config);
    SpawnOptions o;
    o.umask = umask;
    o.extra_env = env;
    o.stderr_path = root_ / "capd.log";
    auto child = Child::Start({Runfile("capd/capd"), "--root", root_.path()}, o);
    if (!child.ok()) return false;
    capd_.emplace(std::move(*child));
    return WaitForPath(socket(), absl::Seconds(20));
  }

  RunResult Secctl(std::vector<std::string> args, std::optional<uid_t> uid = std::nullopt) {
    return RunSecctl(root_, args, uid);
  }

  std::string Log() const { return ReadFileOrEmpty(root_ / "capd.log"); }

  TempRoot root_;
  std::optional<Child> capd_;
};

TEST_F(CapdTest, NobodyCanReadButAnAdminMethodIsPermissionDeniedAndAudited) {
  ASSERT_TRUE(StartCapd(Config("0666"))) << Log();
  RunResult health = Secctl({"cap", "status"}, kNobody);
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_THAT(health.out, HasSubstr("capd"));

  RunResult reload = Secctl({"reload", "capd"}, kNobody);
  EXPECT_EQ(reload.exit_code, 4) << reload.out << reload.err;
  EXPECT_THAT(reload.err, HasSubstr("/secureos.capd.v1.Capd/Reload needs admin access"));
  EXPECT_THAT(reload.err, HasSubstr("uid 65534 is not root and not in server.admin_uids"));

  RunResult subscribe = Secctl({"events", "capd"}, kNobody);  // Peer method.
  EXPECT_EQ(subscribe.exit_code, 4) << subscribe.err;

  RunResult events = Secctl({"--json", "events", "capd"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("\"kind\":\"EVENT_KIND_ACCESS_DENIED\""));
  EXPECT_THAT(events.out, HasSubstr("\"method\":\"/secureos.capd.v1.Capd/Reload\""));
  EXPECT_THAT(events.out, HasSubstr("\"id\":\"uid:65534\""));
  EXPECT_THAT(Log(), HasSubstr("msg=\"permission denied\" method=/secureos.capd.v1.Capd/Reload "
                               "uid=65534"));
}

TEST_F(CapdTest, SocketModeIsTheConfiguredOneUnderUmask000) {
  ASSERT_TRUE(StartCapd(Config("0640"), 0000)) << Log();
  struct stat st;
  ASSERT_EQ(::stat(socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(CapdTest, SocketModeIsTheConfiguredOneUnderUmask077) {
  ASSERT_TRUE(StartCapd(Config("0666"), 0077)) << Log();
  struct stat st;
  ASSERT_EQ(::stat(socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  // And the mode is what lets nobody in: 0666 here, so a read call works.
  EXPECT_EQ(Secctl({"cap", "status"}, kNobody).exit_code, 0);
}

TEST_F(CapdTest, ASocketModeThatExcludesACallerKeepsItOut) {
  ASSERT_TRUE(StartCapd(Config("0660"))) << Log();
  RunResult r = Secctl({"cap", "status"}, kNobody);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
}

TEST_F(CapdTest, ASecondInstanceRefusesToStartAndTheFirstKeepsServing) {
  ASSERT_TRUE(StartCapd(Config("0660"))) << Log();
  RunResult second = RunProcess({Runfile("capd/capd"), "--root", root_.path()}, {}, absl::Seconds(20));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr(absl::StrCat("another instance (pid ", capd_->pid(), ")")));
  RunResult status = Secctl({"cap", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr(absl::StrCat(capd_->pid())));
}

TEST_F(CapdTest, ARequestMissingARequiredFieldIsInvalidArgumentNamingIt) {
  ASSERT_TRUE(StartCapd(Config("0660"))) << Log();
  auto stub = capd::v1::Capd::NewStub(
      grpc::CreateChannel("unix:" + socket(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  common::v1::SubscribeRequest request;
  request.set_epoch("0123456789abcdef");  // A resume must say from where.
  auto reader = stub->Subscribe(&ctx, request);
  common::v1::SubscribeResponse record;
  EXPECT_FALSE(reader->Read(&record));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "from_sequence: required when epoch is set");
}

TEST_F(CapdTest, AnInvalidReloadIsRefusedWithFileLineAndFieldAndTheOldConfigStays) {
  ASSERT_TRUE(StartCapd(Config("0666"))) << Log();
  WriteFileOrDie(config_path(), "server {\n  socket_mode: \"0666\"\n  event_ring_capacity: 3\n"
                                 "  shutdown_timeout_ms: 2000\n}\ndrift_check_interval_seconds: 30\ngrantable_capabilities: \"cap_kill\"\n");
  RunResult bad = Secctl({"reload", "capd"});
  EXPECT_EQ(bad.exit_code, 5) << bad.out << bad.err;
  EXPECT_THAT(bad.err, HasSubstr(config_path() +
                                 ":3: server.event_ring_capacity: required, from 16 to 1048576"));
  WriteFileOrDie(config_path(), "server { socket_mode: \"0666\" \n bogus: 1 }\n"
                                 "drift_check_interval_seconds: 30\ngrantable_capabilities: \"cap_kill\"\n");
  ASSERT_TRUE(capd_->Signal(SIGHUP));  // Same refusal through the signal.
  // Still serving under the old configuration: nobody is still not an admin.
  EXPECT_EQ(Secctl({"reload", "capd"}, kNobody).exit_code, 4);
  // A valid change applies at once: nobody becomes an admin.
  WriteFileOrDie(config_path(), Config("0666", "  admin_uids: 65534\n"));
  RunResult good = Secctl({"reload", "capd"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_THAT(good.out, HasSubstr("configuration reloaded from " + config_path()));
  EXPECT_EQ(Secctl({"reload", "capd"}, kNobody).exit_code, 0);
  RunResult events = Secctl({"--json", "events", "capd"});
  EXPECT_THAT(events.out, HasSubstr("\"applied\":true"));
  EXPECT_THAT(events.out, HasSubstr("bogus"));  // The refused SIGHUP reload, with its reason.
  EXPECT_THAT(events.out, HasSubstr("\"id\":\"signal:SIGHUP\""));
}

TEST_F(CapdTest, SigtermStopsCleanlyAndRemovesTheSocket) {
  ASSERT_TRUE(StartCapd(Config("0660"))) << Log();
  ASSERT_TRUE(capd_->Signal(SIGTERM));
  std::optional<int> status = capd_->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_NE(::access(socket().c_str(), F_OK), 0);
  EXPECT_NE(::access((socket() + ".lock").c_str(), F_OK), 0);
  EXPECT_THAT(Log(), HasSubstr("msg=stopped"));
  EXPECT_EQ(Secctl({"cap", "status"}).exit_code, 3);
}

TEST_F(CapdTest, ReadinessAndStoppingReachSystemdThroughNotifySocket) {
  const std::string notify = root_ / "notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, notify.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  auto receive = [fd] {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, n) : std::string();
  };
  ASSERT_TRUE(StartCapd(Config("0660"), std::nullopt, {"NOTIFY_SOCKET=" + notify})) << Log();
  std::string ready = receive();
  EXPECT_THAT(ready, HasSubstr("READY=1"));
  EXPECT_THAT(ready, HasSubstr(absl::StrCat("MAINPID=", capd_->pid())));
  ASSERT_TRUE(capd_->Signal(SIGTERM));
  EXPECT_THAT(receive(), HasSubstr("STOPPING=1"));
  ASSERT_TRUE(capd_->Wait(absl::Seconds(10)).has_value());
  ::close(fd);
}

TEST_F(CapdTest, AnInvalidConfigAtStartNamesFileLineAndField) {
  WriteFileOrDie(config_path(), "server {\n  socket_mode: \"0666\"\n  shutdown_timeout_ms: 5\n}\n"
                                 "drift_check_interval_seconds: 30\ngrantable_capabilities: \"cap_kill\"\n");
  RunResult r = RunProcess({Runfile("capd/capd"), "--root", root_.path()}, {}, absl::Seconds(20));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(config_path() + ":3: server.shutdown_timeout_ms: required, from "
                               "100 to 60000, got 5"));
  EXPECT_NE(::access(socket().c_str(), F_OK), 0);
}

}  // namespace
}  // namespace secureos::test
