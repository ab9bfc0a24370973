// Every daemon's configuration parser (protobuf text format or JSON, with field locations):
// arbitrary text never crashes it, and what it accepts prints, parses back and prints the
// same again (text is compared, so a NaN round-trips too).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/config_loader.h"
#include "google/protobuf/text_format.h"
#include "proto/capd.pb.h"
#include "proto/containerd_lite.pb.h"
#include "proto/monitord.pb.h"
#include "proto/sandboxd.pb.h"
#include "proto/svcd.pb.h"

namespace {

void ParseAs(const google::protobuf::Message& prototype, absl::string_view text) {
  std::unique_ptr<google::protobuf::Message> parsed(prototype.New());
  secureos::FieldLocations locations;
  if (!secureos::ParseConfig("fuzz.conf", text, parsed.get(), &locations).ok()) return;
  std::string printed;
  if (!google::protobuf::TextFormat::PrintToString(*parsed, &printed)) std::abort();
  std::unique_ptr<google::protobuf::Message> again(prototype.New());
  if (!secureos::ParseConfig("printed.conf", printed, again.get(), nullptr).ok()) std::abort();
  std::string reprinted;
  if (!google::protobuf::TextFormat::PrintToString(*again, &reprinted)) std::abort();
  if (printed != reprinted) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  ParseAs(secureos::capd::v1::CapdConfig::default_instance(), text);
  ParseAs(secureos::sandboxd::v1::SandboxdConfig::default_instance(), text);
  ParseAs(secureos::containerd_lite::v1::ContainerdLiteConfig::default_instance(), text);
  ParseAs(secureos::svcd::v1::SvcdConfig::default_instance(), text);
  ParseAs(secureos::monitord::v1::MonitordConfig::default_instance(), text);
  return 0;
}
