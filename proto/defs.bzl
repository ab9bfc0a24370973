"""secureos_proto_library: the one way .proto files become C++ in this project.

Runs Debian's protoc and grpc_cpp_plugin in a genrule (Bazel 4.2.3's native proto rules
want a protobuf source repository, which is not available offline) and wraps the output in
a cc_library named `name`. Imports are written from the workspace root:
`import "proto/common.proto";`.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def secureos_proto_library(name, srcs, deps = [], visibility = None):
    """Generates message and gRPC code for `srcs`.

    Args:
      name: the cc_library to create; `<name>_srcs` holds the .proto files for dependents.
      srcs: .proto files in this package.
      deps: other secureos_proto_library targets whose files `srcs` import.
      visibility: visibility of the generated targets.
    """
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )
    stems = [s[:-len(".proto")] for s in srcs]
    hdrs = [s + ".pb.h" for s in stems] + [s + ".grpc.pb.h" for s in stems]
    cc_srcs = [s + ".pb.cc" for s in stems] + [s + ".grpc.pb.cc" for s in stems]
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = hdrs + cc_srcs,
        cmd = " ".join([
            "protoc -I.",
            "--cpp_out=$(GENDIR)",
            "--grpc_out=$(GENDIR)",
            "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)",
        ] + ["$(location %s)" % s for s in srcs]),
        visibility = ["//visibility:private"],
    )
    cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        # Generated code is not ours to keep warning-free.
        copts = ["-Wno-unused-parameter", "-Wno-error"],
        deps = deps + ["//third_party:grpc", "//third_party:protobuf"],
        visibility = visibility,
    )
