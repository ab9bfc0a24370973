// Trace ids: one per request, carried by every event it causes in every daemon it reaches.
#ifndef SECUREOS_COMMON_TRACE_ID_H_
#define SECUREOS_COMMON_TRACE_ID_H_

#include <string>

namespace secureos {

// `given` when not empty, otherwise a fresh random id of 32 hex digits.
std::string TraceIdOr(const std::string& given);

}  // namespace secureos

#endif  // SECUREOS_COMMON_TRACE_ID_H_
