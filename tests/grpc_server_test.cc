// UdsGrpcServer in process, with callers of other uids played by secctl run as 65534:
// the identity a handler sees is the caller's, and a denied call stays denied even when a
// handler forgets to ask (the interceptor's second line of defence).
#include "common/grpc_server.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/basic_service.h"
#include "common/config_store.h"
#include "common/daemon_core.h"
#include "common/daemon_main.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/capd.grpc.pb.h"
#include "tests/process.h"

namespace secureos::test {
namespace {

using ::testing::HasSubstr;

// A service whose Reload forgets to call Authorize and reports success, and whose Health
// records who the server says is calling.
class ForgetfulService : public BasicService<capd::v1::Capd> {
 public:
  using BasicService::BasicService;
  grpc::Status Health(grpc::ServerContext* ctx, const common::v1::HealthRequest* request,
                      common::v1::HealthResponse* response) override {
    absl::StatusOr<Caller> caller = core()->Authorize(ctx);
    if (caller.ok()) last_caller = caller->creds;
    return BasicService::Health(ctx, request, response);
  }
  PeerCredentials last_caller;
  grpc::Status Reload(grpc::ServerContext*, const common::v1::ReloadRequest*,
                      common::v1::ReloadResponse* response) override {
    ++reload_bodies_run;
    response->set_path("should never reach a denied caller");
    return grpc::Status::OK;
  }
  std::atomic<int> reload_bodies_run{0};
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InstallSecctl(root_);
    server_config_.set_socket_mode("0666");
    server_config_.set_event_ring_capacity(64);
    server_config_.set_shutdown_timeout_ms(1000);
    capd::v1::CapdConfig config;
    *config.mutable_server() = server_config_;
    store_ = std::make_unique<ConfigStore>(root_ / "none.conf", config.DebugString(),
                                           capd::v1::CapdConfig::default_instance(),
                                           [](auto, auto&, auto) {});
    ASSERT_TRUE(store_->Load().ok());
    server_ = std::make_unique<UdsGrpcServer>(&policy_, &events_);
    core_ = std::make_unique<DaemonCore>("capd", root_.path(), store_.get(), &events_, server_.get());
    service_ = std::make_unique<ForgetfulService>(core_.get());
    // capd's service, so that secctl can talk to it; its own methods are admin-only here.
    const auto& desc = *ServiceDescriptorOf<capd::v1::Capd>();
    MethodTable table = ForgetfulService::BasicMethods();
    for (int i = 0; i < desc.method_count(); ++i) table.emplace(desc.method(i)->name(), Access::kAdmin);
    ASSERT_TRUE(server_->AddService(service_.get(), desc, table).ok());
    ASSERT_TRUE(server_->Start({root_ / "run/secureos/capd.sock", 0666, 0, 0}).ok());
  }
  void TearDown() override { server_->Shutdown(absl::Now() + absl::Seconds(2)); }

  RunResult SecctlAs(uid_t uid, std::vector<std::string> args) {
    return RunSecctl(root_, args, uid);
  }

  TempRoot root_;
  common::v1::ServerConfig server_config_;
  EventRing events_{"capd", 64};
  AccessPolicy policy_{server_config_};
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<UdsGrpcServer> server_;
  std::unique_ptr<DaemonCore> core_;
  std::unique_ptr<ForgetfulService> service_;
};

TEST_F(GrpcServerTest, ADeniedCallStaysDeniedWhenTheHandlerForgetsToAuthorize) {
  RunResult r = SecctlAs(65534, {"reload", "capd"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("denied by the access table"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("should never reach")));
  // The denial was published before the handler ran, whatever the handler did.
  EventRing::Batch b = events_.Read(1, 16, absl::ZeroDuration());
  ASSERT_FALSE(b.events.empty());
  EXPECT_EQ(b.events.back()->kind(), common::v1::EVENT_KIND_ACCESS_DENIED);
  EXPECT_EQ(b.events.back()->principal().uid(), 65534u);
}

TEST_F(GrpcServerTest, TheHandlerSeesEachCallersOwnCredentials) {
  EXPECT_EQ(SecctlAs(65534, {"cap", "status"}).exit_code, 0);
  EXPECT_EQ(service_->last_caller.uid, 65534u);
  EXPECT_EQ(service_->last_caller.gid, 65534u);
  EXPECT_GT(service_->last_caller.pid, 0);
  EXPECT_NE(service_->last_caller.pid, ::getpid());
  EXPECT_EQ(SecctlAs(0, {"cap", "status"}).exit_code, 0);
  EXPECT_EQ(service_->last_caller.uid, 0u);
  RunResult reload = SecctlAs(0, {"reload", "capd"});
  EXPECT_EQ(reload.exit_code, 0) << reload.err;
  EXPECT_THAT(reload.out, HasSubstr("should never reach a denied caller"));  // Root is allowed.
}

}  // namespace
}  // namespace secureos::test
