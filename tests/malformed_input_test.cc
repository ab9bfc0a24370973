// Malformed input on every RPC of every daemon, as root (so that every call passes the
// authorization table and reaches the method): the request with every field omitted; each
// field alone set to a hostile value (strings with NUL and newlines, -1 and the most
// negative numbers, the largest unsigned ones, NaN, an enum value no one declared, a nested
// message full of such values, 1000 repeated elements); a request over gRPC's size limit;
// a request nested deeper than protobuf parses. Each answer must be a clear error or a
// success: never UNKNOWN, UNIMPLEMENTED or DATA_LOSS, INTERNAL only where gRPC itself cannot
// parse the bytes, and an INVALID_ARGUMENT names a field of the request. After every call
// the daemon still answers Health, and what the suite holds (grants, workloads, containers,
// services) is what it held before. (monitord may well record violations: it watches.)
//
// Then each required field omitted: which fields are required is read from the protos' own
// comments (a sentence starting "Required", //proto:wire_descriptor_set); every request type
// with one has a valid request below, and each required field, top-level or inside a message
// the valid request holds, is cleared in turn. Each such call must be INVALID_ARGUMENT naming
// that field, and change nothing. Needs root (tagged local).
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
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/process.h"
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

// The wire as the protos declare it, comments included (//proto:wire_descriptor_set).
class Wire {
 public:
  bool Load(const std::string& path) {
    google::protobuf::FileDescriptorSet set;
    if (!set.ParseFromString(test::ReadFileOrEmpty(path))) return false;
    for (const auto& file : set.file()) {
      if (pool_.BuildFile(file) == nullptr) return false;
    }
    return true;
  }
  const Descriptor* Find(const std::string& full_name) const { return pool_.FindMessageTypeByName(full_name); }
  // A fresh message of `d` (a type of this wire).
  std::unique_ptr<Message> New(const Descriptor* d) { return std::unique_ptr<Message>(factory_.GetPrototype(d)->New()); }

  // Whether the field's comment declares it required: a sentence that starts "Required".
  static bool Required(const FieldDescriptor* f) {
    google::protobuf::SourceLocation loc;
    if (!f->GetSourceLocation(&loc)) return false;
    std::string c = absl::StrReplaceAll(loc.leading_comments, {{"\n", " "}});
    absl::RemoveExtraAsciiWhitespace(&c);
    return absl::StartsWith(c, "Required") || absl::StrContains(c, ". Required");
  }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
};

// A sandbox spec with every kind of nested required field: id maps, mounts, a bridge.
constexpr char kSandboxSpec[] = R"pb(
  spec {
    name: "omit"
    argv: "/bin/true"
    namespaces { mount: true pid: true net: true user: true }
    uid_map { inside: 0 outside: 65534 count: 1 }
    gid_map { inside: 0 outside: 65534 count: 1 }
    filesystem {
      root: ROOT_TMPFS
      entries { kind: MOUNT_KIND_RO_BIND target: "/bin" source: "/bin" }
      entries { kind: MOUNT_KIND_TMPFS target: "/tmp" size: "1m" }
    }
    network: NETWORK_MODE_BRIDGE
    bridge { name: "somit0" address: "10.250.0.2/24" gateway: "10.250.0.1" }
  }
)pb";

// A service definition with every required field.
constexpr char kServiceDefinition[] = R"pb(
  definition { name: "omit" argv: "/bin/sleep" argv: "100" user: "nobody" level: 2 }
)pb";

// A valid request of each request type that has a required field: every required field set
// (the references need not exist: an omitted field is refused before anything is looked up).
const std::map<std::string, std::string>& ValidRequests() {
  static const auto* valid = new std::map<std::string, std::string>{
      {"secureos.capd.v1.GetProcessCapabilitiesRequest", "pid: 1"},
      {"secureos.capd.v1.GrantRequest", "principal: 'uid:4242' capabilities: 'cap_kill' ttl_seconds: 60"},
      {"secureos.capd.v1.RevokeRequest", "principal: 'uid:4242'"},
      {"secureos.capd.v1.AuthorizeRequest", "principal: 'sandbox:web' capabilities: 'cap_kill'"},
      {"secureos.capd.v1.SpawnRequest",
       "principal: 'uid:65534' argv: '/bin/true' uid: 65534 gid: 65534 capabilities: 'cap_kill'"},
      {"secureos.capd.v1.SignalRequest", "id: 's-1' signal: 15"},
      {"secureos.capd.v1.WatchRequest", "id: 's-1'"},
      {"secureos.sandboxd.v1.RunRequest", kSandboxSpec},
      {"secureos.sandboxd.v1.CreateRequest", kSandboxSpec},
      {"secureos.sandboxd.v1.WorkloadRef", "id: 'w-1'"},
      {"secureos.sandboxd.v1.KillRequest", "id: 'w-1' signal: 15"},
      {"secureos.sandboxd.v1.ExecRequest", "id: 'w-1' argv: '/bin/true'"},
      {"secureos.containerd_lite.v1.CreateRequest", "id: 'x' bundle: '/nonexistent'"},
      {"secureos.containerd_lite.v1.ContainerRef", "id: 'x'"},
      {"secureos.containerd_lite.v1.KillRequest", "id: 'x' signal: 15"},
      {"secureos.containerd_lite.v1.DeleteRequest", "id: 'x'"},
      {"secureos.containerd_lite.v1.RunRequest", "create { id: 'x' bundle: '/nonexistent' }"},
      {"secureos.containerd_lite.v1.ExecRequest", "id: 'x' args: '/bin/true'"},
      {"secureos.containerd_lite.v1.StatsRequest", "id: 'x' once: true"},
      {"secureos.containerd_lite.v1.CheckRequest", "bundle: '/nonexistent'"},
      {"secureos.svcd.v1.AddServiceRequest", kServiceDefinition},
      {"secureos.svcd.v1.UpdateServiceRequest", kServiceDefinition},
      {"secureos.svcd.v1.ServiceRef", "name: 'x'"},
      {"secureos.svcd.v1.RemoveServiceRequest", "name: 'x'"},
      {"secureos.svcd.v1.LogsRequest", "name: 'x'"},
  };
  return *valid;
}

// One request with one required field cleared.
struct Omission {
  std::string path;  // "spec.uid_map.count"
  const FieldDescriptor* field;
  std::string bytes;
};

// The message at `path` inside `m` (the first element of a repeated field).
Message* At(Message* m, const std::vector<const FieldDescriptor*>& path) {
  for (const FieldDescriptor* f : path) {
    m = f->is_repeated() ? m->GetReflection()->MutableRepeatedMessage(m, f, 0) : m->GetReflection()->MutableMessage(m, f);
  }
  return m;
}

// Every required field set in `msg` (found at `path` in `root`) and in the messages it
// holds, each cleared in a copy of `root`. A required field the valid request lacks is a
// failure of the table.
void Omissions(const Message& root, const std::vector<const FieldDescriptor*>& path, const Message& msg,
               std::vector<Omission>* out) {
  const Reflection* r = msg.GetReflection();
  const Descriptor* d = msg.GetDescriptor();
  std::string prefix;
  for (const FieldDescriptor* f : path) absl::StrAppend(&prefix, f->name(), ".");
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const bool set = f->is_repeated() ? r->FieldSize(msg, f) > 0 : r->HasField(msg, f);
    if (Wire::Required(f)) {
      EXPECT_TRUE(set) << "the valid " << root.GetDescriptor()->full_name() << " lacks required " << prefix << f->name();
      if (!set) continue;
      std::unique_ptr<Message> copy(root.New());
      copy->CopyFrom(root);
      Message* target = At(copy.get(), path);
      target->GetReflection()->ClearField(target, f);
      out->push_back({prefix + f->name(), f, copy->SerializeAsString()});
    }
    if (set && f->message_type() != nullptr) {
      std::vector<const FieldDescriptor*> deeper = path;
      deeper.push_back(f);
      Omissions(root, deeper, f->is_repeated() ? r->GetRepeatedMessage(msg, f, 0) : r->GetMessage(msg, f), out);
    }
  }
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

TEST_F(MalformedInputTest, EachRequiredFieldOmittedIsRefusedByName) {
  Wire wire;
  ASSERT_TRUE(wire.Load("proto/wire.pb")) << "cannot read the wire's descriptor set";
  const std::string before = Holdings();
  int calls = 0;
  for (const char* daemon : test::kDaemons) {
    const google::protobuf::ServiceDescriptor* service = test::ServiceOf(daemon);
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor& method = *service->method(i);
      const Descriptor* type = wire.Find(method.input_type()->full_name());
      ASSERT_NE(type, nullptr) << method.input_type()->full_name();
      bool has_required = false;
      for (int f = 0; f < type->field_count(); ++f) has_required = has_required || Wire::Required(type->field(f));
      auto valid = ValidRequests().find(type->full_name());
      if (!has_required) continue;
      ASSERT_NE(valid, ValidRequests().end()) << "no valid request for " << type->full_name() << " (" << daemon << "."
                                              << method.name() << "), whose comments declare required fields";
      std::unique_ptr<Message> request = wire.New(type);
      ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(valid->second, request.get())) << valid->first;
      std::vector<Omission> omissions;
      Omissions(*request, {}, *request, &omissions);
      for (const Omission& o : omissions) {
        ++calls;
        const std::string what = absl::StrCat(daemon, ".", method.name(), " without ", o.path);
        const absl::Duration timeout = method.server_streaming() ? absl::Milliseconds(500) : absl::Seconds(5);
        test::RawReply reply = test::CallRaw(suite_->Socket(daemon), method, o.bytes, timeout);
        EXPECT_EQ(reply.code, grpc::StatusCode::INVALID_ARGUMENT) << what << ": " << test::CodeName(reply.code) << " "
                                                                 << reply.message;
        EXPECT_TRUE(absl::StrContains(reply.message, o.field->name()) ||
                    absl::StrContains(reply.message, o.field->json_name()))
            << what << ": the error names another field: " << reply.message;
        ASSERT_TRUE(suite_->Healthy(daemon, absl::Seconds(5))) << daemon << " stopped answering after " << what;
      }
    }
  }
  std::cerr << calls << " calls, each without one required field\n";
  EXPECT_GT(calls, 40);
  EXPECT_EQ(Holdings(), before) << "a call without a required field changed what the suite holds";
}

}  // namespace
}  // namespace secureos
