// Malformed input on every RPC of every daemon, as root (so that every call passes the
// authorization table and reaches the method): the request with every field omitted; each
// field alone set to a hostile value (strings with NUL and newlines, -1 and the most
// negative numbers, the largest unsigned ones, NaN, an enum value no one declared, a nested
// message full of such values, 1000 repeated elements); a request over gRPC's size limit;
// a request nested deeper than protobuf parses. Each answer must be a clear error or a
// success: never UNKNOWN, UNIMPLEMENTED or DATA_LOSS, INTERNAL only where gRPC itself cannot
// parse the bytes, and an INVALID_ARGUMENT names a field of the request. After every call
// the daemon still answers Health, and what the suite holds (grants, workloads, containers,
// services) is what it held before. (monitord may well record violations: it watches.) Needs root (tagged local).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "tests/raw_rpc.h"
#include "tests/suite_test.h"

namespace secureos {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::Reflection;

// A hostile value for `field` in `m` (repeated fields get one element).
void SetHostile(Message* m, const FieldDescriptor* field, int depth) {
  const Reflection* r = m->GetReflection();
  const bool rep = field->is_repeated();
  const std::string text = std::string("a\0b\nc\r\n%s\x7f", 11);
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      rep ? r->AddString(m, field, text) : r->SetString(m, field, text);
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      rep ? r->AddInt32(m, field, std::numeric_limits<int32_t>::min())
          : r->SetInt32(m, field, std::numeric_limits<int32_t>::min());
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      rep ? r->AddInt64(m, field, -1) : r->SetInt64(m, field, -1);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      rep ? r->AddUInt32(m, field, std::numeric_limits<uint32_t>::max())
          : r->SetUInt32(m, field, std::numeric_limits<uint32_t>::max());
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      rep ? r->AddUInt64(m, field, std::numeric_limits<uint64_t>::max())
          : r->SetUInt64(m, field, std::numeric_limits<uint64_t>::max());
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      rep ? r->AddDouble(m, field, std::nan("")) : r->SetDouble(m, field, std::nan(""));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      rep ? r->AddFloat(m, field, -INFINITY) : r->SetFloat(m, field, -INFINITY);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      rep ? r->AddBool(m, field, true) : r->SetBool(m, field, true);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      rep ? r->AddEnumValue(m, field, 12345) : r->SetEnumValue(m, field, 12345);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* sub = rep ? r->AddMessage(m, field) : r->MutableMessage(m, field);
      if (depth >= 3) break;
      const Descriptor* d = sub->GetDescriptor();
      for (int i = 0; i < d->field_count(); ++i) {
        if (d->field(i)->real_containing_oneof() == nullptr || i == 0) SetHostile(sub, d->field(i), depth + 1);
      }
      break;
    }
  }
}

// Every field name of `d` and of the messages it holds (3 levels), for checking that an
// error names one.
void FieldNames(const Descriptor* d, int depth, std::set<std::string>* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    out->insert(d->field(i)->name());
    out->insert(d->field(i)->json_name());
    if (d->field(i)->message_type() != nullptr && depth < 3) FieldNames(d->field(i)->message_type(), depth + 1, out);
  }
}

struct Case {
  std::string name;
  std::string bytes;
  bool unparsable = false;  // gRPC's own INTERNAL ("cannot parse") is the expected answer.
};

std::vector<Case> CasesFor(const MethodDescriptor& method) {
  google::protobuf::DynamicMessageFactory factory;
  const Descriptor* d = method.input_type();
  std::vector<Case> cases;
  std::unique_ptr<Message> empty(factory.GetPrototype(d)->New());
  cases.push_back({"every field omitted", empty->SerializeAsString()});
  for (int i = 0; i < d->field_count(); ++i) {
    std::unique_ptr<Message> m(factory.GetPrototype(d)->New());
    SetHostile(m.get(), d->field(i), 0);
    cases.push_back({absl::StrCat(d->field(i)->name(), " hostile"), m->SerializeAsString()});
    if (d->field(i)->is_repeated()) {
      std::unique_ptr<Message> many(factory.GetPrototype(d)->New());
      for (int n = 0; n < 1000; ++n) SetHostile(many.get(), d->field(i), 2);
      cases.push_back({absl::StrCat(d->field(i)->name(), " x1000"), many->SerializeAsString()});
    }
  }
  // 5 MiB in field 1 (a string or bytes on the wire), over gRPC's 4 MiB limit.
  std::string big = std::string("\x0a\x80\x80\x40", 4) + std::string(5 << 20, 'x');
  cases.push_back({"5 MiB", big});
  // 200 levels of a length-delimited field 1: deeper than protobuf's recursion limit (100)
  // wherever field 1 is a message; elsewhere a string of junk.
  std::string deep;
  for (int i = 0; i < 200; ++i) {
    std::string wrapped = "\x0a";
    uint64_t n = deep.size();
    do {
      wrapped.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
      n >>= 7;
    } while (n != 0);
    deep = wrapped + deep;
  }
  cases.push_back({"nested 200 deep", deep, /*unparsable=*/true});
  return cases;
}

class MalformedInputTest : public test::SuiteTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SuiteTest::SetUp());
    // Something of each kind to be left as it is.
    ASSERT_EQ(suite_->Secctl({"cap", "grant", "uid:65534", "cap_kill"}).exit_code, 0);
    ASSERT_EQ(suite_->Secctl({"sandbox", "run", "--name", "kept", "--", "/bin/true"}).exit_code, 0);
    test::WriteFileOrDie(suite_->root() / "etc/secureos/services/kept.service",
                         "name: \"kept\"\nargv: \"/bin/sleep\"\nargv: \"100\"\nuser: \"nobody\"\nlevel: 2\n");
    ASSERT_EQ(suite_->Secctl({"reload", "svcd"}).exit_code, 0);
  }

  // What the suite holds, by name: grants, workloads, containers, services.
  std::string Holdings() {
    std::vector<std::string> names;
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"--json", "cap", "grants"}, {"--json", "sandbox", "list"},
          {"--json", "ctr", "list"}, {"--json", "svc", "list"}}) {
      test::RunResult r = suite_->Secctl(cmd);
      EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(cmd, " ") << ": " << r.err;
      for (const char* key : {"id", "principal", "name", "state"}) {
        const std::string quoted = absl::StrCat("\"", key, "\":");
        for (size_t at = r.out.find(quoted); at != std::string::npos; at = r.out.find(quoted, at + 1)) {
          const size_t open = r.out.find('"', at + quoted.size());
          const size_t close = open == std::string::npos ? open : r.out.find('"', open + 1);
          if (close == std::string::npos) break;
          names.push_back(absl::StrCat(cmd[1], ":", key, "=", r.out.substr(open + 1, close - open - 1)));
        }
      }
      std::sort(names.begin(), names.end());
    }
    return absl::StrJoin(names, "\n");
  }
};

TEST_F(MalformedInputTest, EveryRpcRefusesBadInputClearlyAndKeepsServing) {
  const std::string before = Holdings();
  ASSERT_THAT(before, ::testing::HasSubstr("principal=uid:65534"));
  int calls = 0;
  std::map<std::string, int> tally;
  for (const char* daemon : test::kDaemons) {
    const google::protobuf::ServiceDescriptor* service = test::ServiceOf(daemon);
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor& method = *service->method(i);
      std::set<std::string> fields;
      FieldNames(method.input_type(), 0, &fields);
      for (const Case& c : CasesFor(method)) {
        ++calls;
        const std::string what = absl::StrCat(daemon, ".", method.name(), " (", c.name, ")");
        const absl::Duration timeout =
            method.server_streaming() ? absl::Milliseconds(500) : absl::Seconds(5);
        test::RawReply reply = test::CallRaw(suite_->Socket(daemon), method, c.bytes, timeout);
        ++tally[test::CodeName(reply.code)];
        EXPECT_THAT(reply.code, ::testing::Not(::testing::AnyOf(grpc::StatusCode::UNKNOWN,
                                                                grpc::StatusCode::UNIMPLEMENTED,
                                                                grpc::StatusCode::DATA_LOSS)))
            << what << ": " << reply.message;
        if (reply.code == grpc::StatusCode::INTERNAL) {
          EXPECT_TRUE(c.unparsable) << what << " INTERNAL: " << reply.message;
        }
        if (reply.code == grpc::StatusCode::INVALID_ARGUMENT) {
          bool named = false;
          for (const std::string& f : fields) named = named || absl::StrContains(reply.message, f);
          EXPECT_TRUE(named) << what << " INVALID_ARGUMENT names no field: " << reply.message;
        }
        ASSERT_TRUE(suite_->Healthy(daemon, absl::Seconds(5))) << daemon << " stopped answering after " << what;
      }
    }
  }
  std::cerr << calls << " calls:";
  for (const auto& [code, n] : tally) std::cerr << " " << code << " " << n;
  std::cerr << "\n";
  std::cerr << "violations monitord recorded:\n" << suite_->Secctl({"monitor", "violations"}).out;
  EXPECT_GT(calls, 250);
  EXPECT_EQ(Holdings(), before) << "malformed calls changed what the suite holds";
}

}  // namespace
}  // namespace secureos
