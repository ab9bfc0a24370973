// `secctl svc explain`: the effective settings of a service, each with where it comes from
// (its level, its definition, an override, or svcd), and the exact request svcd sends its
// launcher. Built from the same PlanLaunch the start uses, so what is explained is what runs.
#ifndef SECUREOS_SVCD_EXPLAIN_H_
#define SECUREOS_SVCD_EXPLAIN_H_

#include "absl/status/statusor.h"
#include "proto/svcd.pb.h"
#include "svcd/launch_plan.h"
#include "svcd/service_spec.h"

namespace secureos::svcd {

// `ctx` is what svcd prepares for a run (log FIFO, notify socket, cgroups); its paths appear
// in the launch request as they would at start.
absl::StatusOr<v1::ExplainResponse> ExplainService(const ServiceSpec& spec, const LaunchContext& ctx);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_EXPLAIN_H_
