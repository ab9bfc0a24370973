// The authorization matrix: every RPC of every daemon, called with an empty request as
// root, as a peer daemon's uid, as an unrelated uid and as uid 65534, against all five
// daemons. Each answer must match docs/access.md (generated from the AccessTables the
// daemons enforce): PERMISSION_DENIED exactly where the caller lacks the method's access
// class. Every refusal must then be in the refusing daemon's event stream as an
// EVENT_KIND_ACCESS_DENIED naming the caller and the method, exactly once, and in monitord's
// audit log. Needs root (tagged local).
#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/common.pb.h"
#include "tests/raw_rpc.h"
#include "tests/suite_test.h"

namespace secureos {
namespace {

using Access = std::string;  // "read", "peer", "admin"
// daemon -> method -> access, as docs/access.md documents it.
using Table = std::map<std::string, std::map<std::string, Access>>;

Table DocumentedTable() {
  Table table;
  for (absl::string_view line : absl::StrSplit(test::ReadFileOrEmpty(test::Runfile("docs/access.md")), '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() != 5) continue;
    for (std::string& c : cells) c = std::string(absl::StripAsciiWhitespace(c));
    if (cells[3] != "read" && cells[3] != "peer" && cells[3] != "admin") continue;
    table[cells[1]][cells[2]] = cells[3];
  }
  return table;
}

struct Identity {
  std::string name;
  uid_t uid;
  std::set<Access> allowed;
};

// A refusal: (daemon, uid, full method name).
using Refusal = std::tuple<std::string, uid_t, std::string>;

// The uid of an ACCESS_DENIED event's caller ("uid:N"), or nullopt for another event.
std::optional<uid_t> DeniedUid(const common::v1::Event& e) {
  uid_t uid = 0;
  if (e.kind() != common::v1::EVENT_KIND_ACCESS_DENIED ||
      !absl::SimpleAtoi(absl::StripPrefix(e.principal().id(), "uid:"), &uid)) {
    return std::nullopt;
  }
  return uid;
}

class AuthzMatrixTest : public test::SuiteTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SuiteTest::SetUp());
    // Where every uid can execute it (runfiles live under root's home).
    probe_ = suite_->root() / "bin/rpc_probe";
    test::WriteFileOrDie(probe_, test::ReadFileOrEmpty(test::Runfile("tests/rpc_probe")), 0755);
  }

  // The ACCESS_DENIED events of `daemon`'s stream, as refusals.
  std::multiset<Refusal> DeniedEvents(const std::string& daemon) {
    std::multiset<Refusal> out;
    for (const common::v1::Event& e : test::Events(*suite_, daemon)) {
      if (std::optional<uid_t> uid = DeniedUid(e)) out.emplace(daemon, *uid, e.access_denied().method());
    }
    return out;
  }

  std::string probe_;
};

TEST_F(AuthzMatrixTest, EveryMethodAnswersEveryCallerAsDocumentedAndEveryRefusalIsAudited) {
  const Table table = DocumentedTable();
  // The document covers exactly the methods the daemons serve.
  for (const char* daemon : test::kDaemons) {
    const google::protobuf::ServiceDescriptor* service = test::ServiceOf(daemon);
    ASSERT_NE(service, nullptr) << daemon;
    ASSERT_EQ(table.count(daemon), 1u) << "docs/access.md has no rows for " << daemon;
    EXPECT_EQ(table.at(daemon).size(), static_cast<size_t>(service->method_count())) << daemon;
  }
  const std::vector<Identity> identities = {
      {"root", 0, {"read", "peer", "admin"}},
      {"peer", test::kPeerUid, {"read", "peer"}},
      {"unrelated", test::kUnrelatedUid, {"read"}},
      {"nobody", 65534, {"read"}},
  };
  std::multiset<Refusal> expected_refusals;
  int calls = 0;
  for (const Identity& who : identities) {
    for (const char* daemon : test::kDaemons) {
      test::SpawnOptions as;
      as.uid = who.uid;
      as.gid = who.uid;
      test::RunResult probe = test::RunProcess({probe_, daemon, suite_->Socket(daemon)},
                                               who.uid == 0 ? test::SpawnOptions{} : as, absl::Seconds(120));
      ASSERT_EQ(probe.exit_code, 0) << who.name << " " << daemon << ": " << probe.err;
      const google::protobuf::ServiceDescriptor* service = test::ServiceOf(daemon);
      std::map<std::string, std::string> answers;
      for (absl::string_view line : absl::StrSplit(probe.out, '\n', absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv = absl::StrSplit(line, ' ');
        answers[kv.first] = kv.second;
      }
      for (const auto& [method, access] : table.at(daemon)) {
        ++calls;
        ASSERT_EQ(answers.count(method), 1u) << daemon << "." << method << " was not called";
        const bool denied = answers[method] == "PERMISSION_DENIED";
        const bool should_deny = who.allowed.count(access) == 0;
        EXPECT_EQ(denied, should_deny) << daemon << "." << method << " (" << access << ") as " << who.name
                                       << " (uid " << who.uid << ") answered " << answers[method];
        if (should_deny) {
          expected_refusals.emplace(daemon, who.uid, absl::StrCat("/", service->full_name(), "/", method));
        }
      }
    }
  }
  EXPECT_GT(calls, 4 * 50);
  EXPECT_FALSE(expected_refusals.empty());

  // Every refusal is an event of the refusing daemon, exactly once.
  std::multiset<Refusal> events;
  for (const char* daemon : test::kDaemons) {
    std::multiset<Refusal> d = DeniedEvents(daemon);
    events.insert(d.begin(), d.end());
  }
  EXPECT_EQ(events, expected_refusals);

  // And monitord's audit log records every one of them, its own refusals included.
  std::multiset<std::pair<uid_t, std::string>> want_audited;
  for (const auto& [daemon, uid, method] : expected_refusals) want_audited.emplace(uid, method);
  std::multiset<std::pair<uid_t, std::string>> audited;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    audited.clear();
    for (const common::v1::Event& e : test::AuditedEvents(*suite_)) {
      if (std::optional<uid_t> uid = DeniedUid(e)) audited.emplace(*uid, e.access_denied().method());
    }
    if (audited == want_audited) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  std::vector<std::pair<uid_t, std::string>> missing, extra;
  std::set_difference(want_audited.begin(), want_audited.end(), audited.begin(), audited.end(),
                      std::back_inserter(missing));
  std::set_difference(audited.begin(), audited.end(), want_audited.begin(), want_audited.end(),
                      std::back_inserter(extra));
  EXPECT_THAT(missing, ::testing::IsEmpty()) << "refusals not in monitord's audit log";
  EXPECT_THAT(extra, ::testing::IsEmpty()) << "audited refusals that did not happen";
}

}  // namespace
}  // namespace secureos
