// Calls every method of one daemon's service with an empty request and prints
// "<method> <CODE>" per line. tests/authz_matrix_test runs it as each caller identity (a
// process's uid is what the daemon's SO_PEERCRED check sees).
//   rpc_probe DAEMON SOCKET
#include <iostream>

#include "absl/time/time.h"
#include "tests/raw_rpc.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: rpc_probe DAEMON SOCKET\n";
    return 2;
  }
  const google::protobuf::ServiceDescriptor* service = secureos::test::ServiceOf(argv[1]);
  if (service == nullptr) {
    std::cerr << "rpc_probe: unknown daemon " << argv[1] << "\n";
    return 2;
  }
  for (int i = 0; i < service->method_count(); ++i) {
    const secureos::test::RawReply reply =
        secureos::test::CallRaw(argv[2], *service->method(i), "", absl::Seconds(3));
    std::cout << service->method(i)->name() << " " << secureos::test::CodeName(reply.code) << "\n";
  }
  return 0;
}
