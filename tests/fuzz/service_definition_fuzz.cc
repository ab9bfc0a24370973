// svcd's service definitions: text-format parsing, then CompileDefinition under both
// settings of allow_root. Arbitrary text never crashes either, and an accepted definition
// has a valid name, a non-empty argv and a level of 1 to 5.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "common/config_loader.h"
#include "proto/svcd.pb.h"
#include "svcd/definition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  secureos::svcd::v1::ServiceDefinition def;
  if (!secureos::ParseConfig("fuzz.service", text, &def, nullptr).ok()) return 0;
  for (bool allow_root : {false, true}) {
    secureos::svcd::DefinitionPolicy policy;
    policy.allow_root = allow_root;
    absl::StatusOr<secureos::svcd::ServiceSpec> spec = secureos::svcd::CompileDefinition(def, policy);
    if (!spec.ok()) continue;
    if (!secureos::svcd::ValidServiceName(def.name()) || def.argv().empty() || def.level() < 1 ||
        def.level() > 5) {
      std::abort();
    }
  }
  return 0;
}
