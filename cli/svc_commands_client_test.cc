// `secctl svc ...` against a fake svcd on a Unix socket: what goes on the wire, what is
// printed, exit codes of gRPC errors, and `svc logs` (run as the real secctl binary, since it
// writes to file descriptor 1 and ends on SIGINT).
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/exit_codes.h"
#include "cli/svc_commands.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/svcd.grpc.pb.h"

extern char** environ;

namespace secureos::cli {
namespace {

using svcd::v1::ServiceStatus;

ServiceStatus Running(const std::string& name) {
  ServiceStatus st;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    state: SERVICE_STATE_RUNNING pid: 4242 uptime_seconds: 65 level: 3
    memory_bytes: 2097152 cpu_seconds: 0.5 backend_id: "sandboxd:w-1"
    verification { ok: true pid: 4242 }
  )pb", &st);
  st.set_name(name);
  return st;
}

class FakeSvcd final : public svcd::v1::Svcd::Service {
 public:
  std::mutex mu;
  svcd::v1::ServiceDefinition added;  // The last AddService/UpdateService definition.
  absl::Duration start_deadline;      // How long StartService's caller was willing to wait.
  svcd::v1::LogsRequest logs_request;
  std::atomic<bool> follow_cancelled{false};

  grpc::Status AddService(grpc::ServerContext*, const svcd::v1::AddServiceRequest* req,
                          ServiceStatus* resp) override {
    std::lock_guard<std::mutex> l(mu);
    added = req->definition();
    *resp = Running(req->definition().name());
    return grpc::Status::OK;
  }
  grpc::Status UpdateService(grpc::ServerContext*, const svcd::v1::UpdateServiceRequest* req,
                             ServiceStatus* resp) override {
    std::lock_guard<std::mutex> l(mu);
    added = req->definition();
    resp->set_name(req->definition().name());
    resp->set_state(svcd::v1::SERVICE_STATE_INACTIVE);
    return grpc::Status::OK;
  }
  grpc::Status RemoveService(grpc::ServerContext*, const svcd::v1::RemoveServiceRequest* req,
                             svcd::v1::RemoveServiceResponse*) override {
    if (req->name() == "web") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "web is running");
    }
    return grpc::Status::OK;
  }
  grpc::Status StartService(grpc::ServerContext* ctx, const svcd::v1::ServiceRef* req,
                            ServiceStatus* resp) override {
    {
      std::lock_guard<std::mutex> l(mu);
      start_deadline = absl::FromChrono(ctx->deadline()) - absl::Now();
    }
    if (req->name() == "bad") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad: user \"nope\" does not exist");
    }
    *resp = Running(req->name());
    return grpc::Status::OK;
  }
  grpc::Status StopService(grpc::ServerContext*, const svcd::v1::ServiceRef* req,
                           ServiceStatus* resp) override {
    resp->set_name(req->name());
    resp->set_state(svcd::v1::SERVICE_STATE_INACTIVE);
    resp->mutable_last_exit()->set_signal(SIGTERM);
    resp->mutable_last_exit()->set_reason("stopped");
    return grpc::Status::OK;
  }
  grpc::Status GetStatus(grpc::ServerContext*, const svcd::v1::ServiceRef* req,
                         ServiceStatus* resp) override {
    if (req->name() == "ghost") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no service ghost");
    if (req->name() == "secret") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "uid 1000 is not an admin");
    }
    *resp = Running(req->name());
    return grpc::Status::OK;
  }
  grpc::Status ListServices(grpc::ServerContext*, const svcd::v1::ListServicesRequest*,
                            svcd::v1::ListServicesResponse* resp) override {
    *resp->add_services() = Running("web");
    ServiceStatus* db = resp->add_services();
    db->set_name("db");
    db->set_state(svcd::v1::SERVICE_STATE_FAILED);
    db->set_level(1);
    db->set_restarts(5);
    db->mutable_last_exit()->set_code(1);
    db->mutable_last_exit()->set_reason("exited");
    return grpc::Status::OK;
  }
  grpc::Status Explain(grpc::ServerContext*, const svcd::v1::ServiceRef* req,
                       svcd::v1::ExplainResponse* resp) override {
    resp->set_name(req->name());
    resp->set_level(3);
    resp->set_level_summary("sandboxed");
    resp->set_launcher("sandboxd");
    return grpc::Status::OK;
  }
  grpc::Status Logs(grpc::ServerContext* ctx, const svcd::v1::LogsRequest* req,
                    grpc::ServerWriter<svcd::v1::LogChunk>* writer) override {
    {
      std::lock_guard<std::mutex> l(mu);
      logs_request = *req;
    }
    if (req->name() == "ghost") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no service ghost");
    svcd::v1::LogChunk chunk;
    if (!req->follow()) {
      for (const char* piece : {"hello\n", "wor", "ld\n"}) {
        chunk.set_data(piece);
        writer->Write(chunk);
      }
      chunk.set_data(std::string("\0bin\xff\n", 6));
      writer->Write(chunk);
      return grpc::Status::OK;
    }
    chunk.set_data("first\n");
    writer->Write(chunk);
    for (int i = 0; i < 1000 && !ctx->IsCancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    follow_cancelled = ctx->IsCancelled();
    return grpc::Status::OK;
  }
};

class SvcCommandsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // TEST_TMPDIR is too deep for sun_path's 108 bytes.
    char tmpl[] = "/tmp/secctl-svc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = new std::string(tmpl);
    ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", *root_, "/run/secureos").c_str()), 0);
    service_ = new FakeSvcd;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("unix:", *root_, "/run/secureos/svcd.sock"),
                             grpc::InsecureServerCredentials());
    builder.RegisterService(service_);
    server_ = builder.BuildAndStart().release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    delete server_;
    delete service_;
    EXPECT_EQ(std::system(absl::StrCat("rm -rf ", *root_).c_str()), 0);
    delete root_;
  }

  int Run(const std::string& command, const std::vector<std::string>& args,
          SvcOptions svc = {}, bool json = false) {
    Options o;
    o.root = *root_;
    o.json = json;
    out_.str("");
    err_.str("");
    int code = -1;
    EXPECT_TRUE(RunSvcCommand(o, svc, command, args, out_, err_, &code)) << command;
    return code;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(*root_, "/", name);
    std::ofstream(path) << text;
    return path;
  }

  // Runs the real secctl with stdout on a pipe; returns the pid and the read end.
  pid_t Spawn(const std::vector<std::string>& args, int* read_fd) {
    const std::string secctl =
        absl::StrCat(std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"), "/cli/secctl");
    std::vector<std::string> all = {secctl, "--root", *root_};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, secctl.c_str(), &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    *read_fd = p[0];
    return pid;
  }

  static std::string ReadAll(int fd) {
    std::string data;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, n);
    return data;
  }

  static int Wait(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static std::string* root_;
  static FakeSvcd* service_;
  static grpc::Server* server_;
  std::ostringstream out_, err_;
};

std::string* SvcCommandsClientTest::root_;
FakeSvcd* SvcCommandsClientTest::service_;
grpc::Server* SvcCommandsClientTest::server_;

TEST_F(SvcCommandsClientTest, StatusWithoutNameIsLeftToTheDaemonStatus) {
  Options o;
  SvcOptions svc;
  std::ostringstream out, err;
  int code = -1;
  EXPECT_FALSE(RunSvcCommand(o, svc, "status", {}, out, err, &code));
  EXPECT_FALSE(RunSvcCommand(o, svc, "reload", {}, out, err, &code));
  EXPECT_FALSE(RunSvcCommand(o, svc, "events", {}, out, err, &code));
}

TEST_F(SvcCommandsClientTest, StatusPrintsTheBlock) {
  EXPECT_EQ(Run("status", {"web"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "web\n"
            "       state: running\n"
            "       level: 3\n"
            "     enabled: no\n"
            "         pid: 4242\n"
            "      uptime: 1m5s\n"
            "    restarts: 0\n"
            "   last exit: -\n"
            "      memory: 2.0 MiB\n"
            "         cpu: 0.50s\n"
            "     backend: sandboxd:w-1\n"
            "verification: ok (pid 4242)\n");
}

TEST_F(SvcCommandsClientTest, JsonIsTheResponseMessage) {
  EXPECT_EQ(Run("status", {"web"}, {}, /*json=*/true), kExitOk) << err_.str();
  EXPECT_EQ(out_.str().substr(0, 47), "{\"name\":\"web\",\"state\":\"SERVICE_STATE_RUNNING\",\"");
  EXPECT_EQ(Run("remove", {"old"}, {}, /*json=*/true), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "{}\n");
}

TEST_F(SvcCommandsClientTest, GrpcErrorsMapToExitCodes) {
  EXPECT_EQ(Run("status", {"ghost"}), kExitNotFound);
  EXPECT_EQ(err_.str(), "secctl: svc status ghost: no service ghost\n");
  EXPECT_EQ(Run("status", {"secret"}), kExitPermissionDenied);
  EXPECT_EQ(Run("start", {"bad"}), kExitInvalidArgument);
  EXPECT_EQ(err_.str(), "secctl: svc start bad: bad: user \"nope\" does not exist\n");
  EXPECT_EQ(Run("remove", {"web"}), kExitInvalidArgument);  // FAILED_PRECONDITION.
  EXPECT_EQ(out_.str(), "");
}

TEST_F(SvcCommandsClientTest, StartWaitsLongerThanTheDefaultTimeoutUnlessGiven) {
  EXPECT_EQ(Run("start", {"web"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("       state: running\n"), std::string::npos) << out_.str();
  {
    std::lock_guard<std::mutex> l(service_->mu);
    EXPECT_GT(service_->start_deadline, absl::Minutes(1));
  }
  SvcOptions given;
  given.timeout_given = true;  // Options' default: 5 s.
  EXPECT_EQ(Run("start", {"web"}, given), kExitOk) << err_.str();
  std::lock_guard<std::mutex> l(service_->mu);
  EXPECT_LT(service_->start_deadline, absl::Seconds(10));  // 5 s, give or take rounding.
}

TEST_F(SvcCommandsClientTest, StopShowsHowItEnded) {
  EXPECT_EQ(Run("stop", {"web"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("   last exit: signal SIGTERM (stopped)\n"), std::string::npos)
      << out_.str();
}

TEST_F(SvcCommandsClientTest, AddSendsTheParsedDefinition) {
  const std::string path = WriteFile("web.service", R"(
# A comment.
name: "web"
argv: ["/usr/bin/web", "--port", "8080"]
user: "www"
level: 3
restart: RESTART_POLICY_ON_FAILURE
overrides { read_write_paths: "/var/lib/web" }
)");
  EXPECT_EQ(Run("add", {path}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str().substr(0, 4), "web\n");
  {
    std::lock_guard<std::mutex> l(service_->mu);
    EXPECT_EQ(service_->added.name(), "web");
    EXPECT_EQ(service_->added.argv_size(), 3);
    EXPECT_EQ(service_->added.restart(), svcd::v1::RESTART_POLICY_ON_FAILURE);
    EXPECT_EQ(service_->added.overrides().read_write_paths(0), "/var/lib/web");
  }
  const std::string json = WriteFile("db.json", R"({"name": "db", "level": 1})");
  EXPECT_EQ(Run("update", {json}), kExitOk) << err_.str();
  std::lock_guard<std::mutex> l(service_->mu);
  EXPECT_EQ(service_->added.name(), "db");
  EXPECT_EQ(service_->added.level(), 1u);
}

TEST_F(SvcCommandsClientTest, AddRefusesAnInvalidFileBeforeCalling) {
  const std::string path = WriteFile("bad.service", "name: \"x\"\nlevel: \"three\"\n");
  EXPECT_EQ(Run("add", {path}), kExitInvalidArgument);
  EXPECT_EQ(err_.str().rfind(absl::StrCat("secctl: svc add: ", path, ":2:8: "), 0), 0u)
      << err_.str();
}

TEST_F(SvcCommandsClientTest, ListIsATable) {
  EXPECT_EQ(Run("list", {}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "NAME  STATE    LEVEL  PID   UPTIME  RESTARTS  MEMORY   LAST-EXIT\n"
            "web   running  3      4242  1m5s    0         2.0 MiB  -\n"
            "db    failed   1      -     -       5         -        code 1 (exited)\n");
}

TEST_F(SvcCommandsClientTest, Explain) {
  EXPECT_EQ(Run("explain", {"web"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str().substr(0, 25), "web: level 3: sandboxed\n\n");
}

TEST_F(SvcCommandsClientTest, UsageErrorsNameWhatIsMissing) {
  EXPECT_EQ(Run("restart", {}), kExitUsage);
  EXPECT_EQ(err_.str().substr(0, err_.str().find('\n')), "secctl: svc restart: needs NAME");
  EXPECT_EQ(Run("reset-failed", {"a", "b"}), kExitUsage);
  EXPECT_EQ(err_.str().substr(0, err_.str().find('\n')),
            "secctl: svc reset-failed: too many arguments (needs only NAME), got \"b\"");
  EXPECT_EQ(Run("update", {}), kExitUsage);
  EXPECT_EQ(err_.str().substr(0, err_.str().find('\n')), "secctl: svc update: needs FILE");
}

TEST_F(SvcCommandsClientTest, LogsWritesTheBytesAsTheyCame) {
  int fd;
  pid_t pid = Spawn({"svc", "logs", "web", "--tail", "64K"}, &fd);
  const std::string data = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(Wait(pid), kExitOk);
  EXPECT_EQ(data, std::string("hello\nworld\n\0bin\xff\n", 18));
  std::lock_guard<std::mutex> l(service_->mu);
  EXPECT_EQ(service_->logs_request.name(), "web");
  EXPECT_EQ(service_->logs_request.tail_bytes(), 65536u);
  EXPECT_FALSE(service_->logs_request.follow());
}

TEST_F(SvcCommandsClientTest, LogsOfAnUnknownServiceIsNotFound) {
  int fd;
  pid_t pid = Spawn({"svc", "logs", "ghost"}, &fd);
  EXPECT_EQ(ReadAll(fd), "");
  ::close(fd);
  EXPECT_EQ(Wait(pid), kExitNotFound);
}

TEST_F(SvcCommandsClientTest, LogsFollowEndsWithExitZeroOnSigint) {
  service_->follow_cancelled = false;
  int fd;
  pid_t pid = Spawn({"svc", "logs", "-f", "web"}, &fd);
  std::string data;
  char buf[64];
  while (data.size() < 6) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    ASSERT_GT(n, 0);
    data.append(buf, n);
  }
  EXPECT_EQ(data, "first\n");
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  EXPECT_EQ(Wait(pid), kExitOk);
  ::close(fd);
  {
    std::lock_guard<std::mutex> l(service_->mu);
    EXPECT_TRUE(service_->logs_request.follow());
    EXPECT_EQ(service_->logs_request.tail_bytes(), 0u);
  }
  // The server sees the caller go away.
  for (int i = 0; i < 500 && !service_->follow_cancelled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(service_->follow_cancelled);
}

}  // namespace
}  // namespace secureos::cli
