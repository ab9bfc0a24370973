#include "common/subscribe_stream.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/field_errors.h"
#include "common/status.h"

namespace secureos {

using common::v1::SubscribeResponse;

absl::StatusOr<uint64_t> SubscribeStartCursor(const EventRing& ring,
                                              const common::v1::SubscribeRequest& request) {
  FieldErrors errors;
  if (!request.epoch().empty()) RequireFields(request, {"from_sequence"}, "", &errors);
  if (!errors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(errors.errors()[0].field, ": required when epoch is set"));
  }
  if (!request.epoch().empty() && request.epoch() != ring.epoch()) {
    // The events after from_sequence belonged to a previous run of the daemon; start at the
    // oldest event of this run (a lost record covers what the ring no longer holds).
    return 1;
  }
  if (!request.has_from_sequence()) return ring.next_sequence();
  const uint64_t next = ring.next_sequence();
  if (request.from_sequence() > next) {
    return absl::OutOfRangeError(absl::StrCat(
        "from_sequence: ", request.from_sequence(), " is beyond the next sequence ", next,
        " of epoch ", ring.epoch()));
  }
  return std::max<uint64_t>(request.from_sequence(), 1);
}

absl::Status ServeSubscribe(const EventRing& ring, const common::v1::SubscribeRequest& request,
                            const std::function<bool(const SubscribeResponse&)>& write,
                            const std::function<bool()>& cancelled) {
  SECUREOS_ASSIGN_OR_RETURN(uint64_t cursor, SubscribeStartCursor(ring, request));
  SubscribeResponse record;
  while (!cancelled()) {
    EventRing::Batch batch = ring.Read(cursor, 256, absl::Milliseconds(200));
    if (batch.lost.has_value()) {
      record.Clear();
      *record.mutable_lost() = *batch.lost;
      if (!write(record)) return absl::OkStatus();
    }
    for (const auto& event : batch.events) {
      record.Clear();
      *record.mutable_event() = *event;
      if (!write(record)) return absl::OkStatus();
    }
    cursor = batch.next_cursor;
    if (batch.closed) return absl::UnavailableError("the daemon is stopping; resubscribe when it is back");
  }
  return absl::CancelledError("subscriber went away");
}

}  // namespace secureos
