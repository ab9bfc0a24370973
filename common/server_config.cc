#include "common/server_config.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace secureos {

using common::v1::ServerConfig;

absl::StatusOr<mode_t> ParseSocketMode(absl::string_view text) {
  if (text.size() < 3 || text.size() > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be an octal mode such as \"0660\", got \"", text, "\""));
  }
  mode_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return absl::InvalidArgumentError(
          absl::StrCat("must be an octal mode such as \"0660\", got \"", text, "\""));
    }
    mode = mode * 8 + static_cast<mode_t>(c - '0');
  }
  if (mode > 0777) {
    return absl::InvalidArgumentError(
        absl::StrCat("setuid, setgid and sticky bits make no sense on a socket, got \"", text,
                     "\""));
  }
  if ((mode & 0600) != 0600) {
    return absl::InvalidArgumentError(
        absl::StrCat("the owner must keep read and write access (0600), got \"", text, "\""));
  }
  return mode;
}

namespace {

template <typename Id>
absl::StatusOr<Id> ParseNumericId(absl::string_view text, bool* numeric) {
  uint32_t id;
  *numeric = !text.empty() && absl::ascii_isdigit(static_cast<unsigned char>(text[0]));
  if (!*numeric) return static_cast<Id>(0);
  if (!absl::SimpleAtoi(text, &id) || id == static_cast<uint32_t>(-1)) {
    return absl::InvalidArgumentError(absl::StrCat("not a valid id: \"", text, "\""));
  }
  return static_cast<Id>(id);
}

}  // namespace

absl::StatusOr<uid_t> ResolveUser(absl::string_view text, uid_t fallback) {
  if (text.empty()) return fallback;
  bool numeric;
  absl::StatusOr<uid_t> id = ParseNumericId<uid_t>(text, &numeric);
  if (numeric || !id.ok()) return id;
  std::vector<char> buf(16384);
  passwd pw;
  passwd* result = nullptr;
  int err = getpwnam_r(std::string(text).c_str(), &pw, buf.data(), buf.size(), &result);
  if (err != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("no such user: \"", text, "\""));
  }
  return pw.pw_uid;
}

absl::StatusOr<gid_t> ResolveGroup(absl::string_view text, gid_t fallback) {
  if (text.empty()) return fallback;
  bool numeric;
  absl::StatusOr<gid_t> id = ParseNumericId<gid_t>(text, &numeric);
  if (numeric || !id.ok()) return id;
  std::vector<char> buf(16384);
  group gr;
  group* result = nullptr;
  int err = getgrnam_r(std::string(text).c_str(), &gr, buf.data(), buf.size(), &result);
  if (err != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("no such group: \"", text, "\""));
  }
  return gr.gr_gid;
}

void ValidateServerConfig(const ServerConfig& config, absl::string_view prefix,
                          FieldErrors* errors) {
  auto field = [&](absl::string_view name) { return absl::StrCat(prefix, name); };
  if (!config.socket().empty()) {
    if (config.socket()[0] == '/') {
      errors->Add(field("socket"), absl::StrCat("must be relative to --root, got \"",
                                                config.socket(), "\""));
    }
    for (absl::string_view part : absl::StrSplit(config.socket(), '/')) {
      if (part == "..") {
        errors->Add(field("socket"), "must not contain \"..\"");
        break;
      }
    }
  }
  if (config.socket_mode().empty()) {
    errors->Add(field("socket_mode"), "required (an octal mode such as \"0660\")");
  } else if (absl::StatusOr<mode_t> mode = ParseSocketMode(config.socket_mode()); !mode.ok()) {
    errors->Add(field("socket_mode"), mode.status().message());
  }
  if (auto uid = ResolveUser(config.socket_owner(), 0); !uid.ok()) {
    errors->Add(field("socket_owner"), uid.status().message());
  }
  if (auto gid = ResolveGroup(config.socket_group(), 0); !gid.ok()) {
    errors->Add(field("socket_group"), gid.status().message());
  }
  if (config.event_ring_capacity() < 16 || config.event_ring_capacity() > (1u << 20)) {
    errors->Add(field("event_ring_capacity"),
                absl::StrCat("required, from 16 to 1048576, got ", config.event_ring_capacity()));
  }
  if (config.shutdown_timeout_ms() < 100 || config.shutdown_timeout_ms() > 60000) {
    errors->Add(field("shutdown_timeout_ms"),
                absl::StrCat("required, from 100 to 60000, got ", config.shutdown_timeout_ms()));
  }
}

void CheckServerConfigReload(const ServerConfig& running, const ServerConfig& next,
                             absl::string_view prefix, FieldErrors* errors) {
  auto restart = [&](absl::string_view name, bool changed) {
    if (changed) errors->Add(absl::StrCat(prefix, name), "changing it needs a restart");
  };
  restart("socket", running.socket() != next.socket());
  restart("socket_mode", running.socket_mode() != next.socket_mode());
  restart("socket_owner", running.socket_owner() != next.socket_owner());
  restart("socket_group", running.socket_group() != next.socket_group());
  restart("event_ring_capacity", running.event_ring_capacity() != next.event_ring_capacity());
}

}  // namespace secureos
