#include "tests/raw_rpc.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "proto/capd.pb.h"
#include "proto/containerd_lite.pb.h"
#include "proto/monitord.pb.h"
#include "proto/sandboxd.pb.h"
#include "proto/svcd.pb.h"

namespace secureos::test {
namespace {

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace

const google::protobuf::ServiceDescriptor* ServiceOf(const std::string& daemon) {
  // Each daemon's config and service are declared in the same file.
  if (daemon == "capd") return capd::v1::CapdConfig::descriptor()->file()->FindServiceByName("Capd");
  if (daemon == "sandboxd") return sandboxd::v1::SandboxdConfig::descriptor()->file()->FindServiceByName("Sandboxd");
  if (daemon == "containerd-lite") {
    return containerd_lite::v1::ContainerdLiteConfig::descriptor()->file()->FindServiceByName("ContainerdLite");
  }
  if (daemon == "svcd") return svcd::v1::SvcdConfig::descriptor()->file()->FindServiceByName("Svcd");
  if (daemon == "monitord") return monitord::v1::MonitordConfig::descriptor()->file()->FindServiceByName("Monitord");
  return nullptr;
}

std::shared_ptr<grpc::Channel> RawChannel(const std::string& socket) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
}

RawReply CallRaw(const std::string& socket, const google::protobuf::MethodDescriptor& method,
                 const std::string& request, absl::Duration timeout) {
  return CallRaw(RawChannel(socket), method, request, timeout);
}

RawReply CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                 const google::protobuf::MethodDescriptor& method, const std::string& request,
                 absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue cq;
  const std::string name = absl::StrCat("/", method.service()->full_name(), "/", method.name());
  grpc::Slice slice(request);
  grpc::ByteBuffer send(&slice, 1);
  RawReply reply;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(&context, name, &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  if (ok) {
    call->Write(send, reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
  }
  if (ok) {
    call->WritesDone(reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
  }
  grpc::ByteBuffer received;
  call->Read(&received, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  const bool got_message = ok;
  if (got_message) {
    reply.response = Bytes(received);
    context.TryCancel();  // A stream: the first message is enough.
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  reply.code = status.error_code();
  reply.message = status.error_message();
  // A stream cancelled after its first message was accepted.
  if (got_message && reply.code == grpc::StatusCode::CANCELLED) reply.code = grpc::StatusCode::OK;
  return reply;
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

}  // namespace secureos::test
