// Serving one Subscribe stream from an EventRing, independent of gRPC.
#ifndef SECUREOS_COMMON_SUBSCRIBE_STREAM_H_
#define SECUREOS_COMMON_SUBSCRIBE_STREAM_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/event_ring.h"
#include "proto/common.pb.h"

namespace secureos {

// Where a stream starts for `request` (see SubscribeRequest): INVALID_ARGUMENT for an epoch
// without from_sequence (a resume must say where from), OUT_OF_RANGE for a from_sequence
// beyond the next one in the current epoch.
absl::StatusOr<uint64_t> SubscribeStartCursor(const EventRing& ring,
                                              const common::v1::SubscribeRequest& request);

// Writes records to `write` until the ring closes, `write` returns false (the client went
// away), or `cancelled()` is true. Never holds up publishers.
absl::Status ServeSubscribe(const EventRing& ring, const common::v1::SubscribeRequest& request,
                            const std::function<bool(const common::v1::SubscribeResponse&)>& write,
                            const std::function<bool()>& cancelled);

}  // namespace secureos

#endif  // SECUREOS_COMMON_SUBSCRIBE_STREAM_H_
