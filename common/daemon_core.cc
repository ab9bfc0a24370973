#include "common/daemon_core.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/version.h"
#include "google/protobuf/util/time_util.h"

namespace secureos {

DaemonCore::DaemonCore(std::string name, std::string root, ConfigStore* config,
                       EventRing* events, UdsGrpcServer* server)
    : name_(std::move(name)),
      root_(std::move(root)),
      started_(absl::Now()),
      config_(config),
      events_(events),
      server_(server) {}

absl::StatusOr<Caller> DaemonCore::Authorize(const grpc::ServerContextBase* ctx) const {
  return server_->Authorize(ctx);
}

absl::StatusOr<std::string> DaemonCore::Reload(const std::string& principal) {
  absl::StatusOr<std::string> result = config_->Reload();
  common::v1::Event event;
  event.set_kind(common::v1::EVENT_KIND_CONFIG_RELOADED);
  event.mutable_principal()->set_id(principal);
  auto* details = event.mutable_config_reloaded();
  details->set_path(config_->path());
  details->set_applied(result.ok());
  if (result.ok()) {
    event.set_severity(common::v1::SEVERITY_INFO);
    event.set_message(absl::StrCat("configuration reloaded from ", *result));
    details->set_path(*result);
    Log(LogLevel::kInfo, "configuration reloaded", {{"source", *result}, {"by", principal}});
  } else {
    event.set_severity(common::v1::SEVERITY_WARNING);
    event.set_message("configuration reload refused; the previous configuration stays");
    details->set_error(std::string(result.status().message()));
    Log(LogLevel::kWarning, "configuration reload refused",
        {{"error", std::string(result.status().message())}, {"by", principal}});
  }
  events_->Publish(std::move(event));
  return result;
}

void DaemonCore::FillHealth(common::v1::HealthResponse* out) const {
  out->set_daemon(name_);
  out->set_status(stopping() ? common::v1::SERVING_STATUS_STOPPING
                             : common::v1::SERVING_STATUS_SERVING);
  out->set_pid(::getpid());
  *out->mutable_started() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(started_));
  out->set_uptime_seconds(absl::ToDoubleSeconds(absl::Now() - started_));
  out->set_epoch(events_->epoch());
  out->set_next_sequence(events_->next_sequence());
  out->set_version(kSuiteVersion);
}

void DaemonCore::FillVersion(common::v1::VersionResponse* out) const {
  out->set_daemon(name_);
  out->set_version(kSuiteVersion);
  out->set_api(kApiVersion);
}

}  // namespace secureos
