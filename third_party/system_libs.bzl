"""Wraps Debian's system libraries as Bazel targets, offline.

`system_libs` asks pkg-config what each library links with and writes a BUILD file of
cc_library targets that carry only link options (the headers are in /usr/include). Project
code never names `-l` flags: it depends on `//third_party:<name>`, which aliases these.

It also writes `linkopts.bzl` with STATIC_GRPC_LINKOPTS: the same gRPC, protobuf and abseil
libraries linked from Debian's `.a` archives, for binaries that must start fast (secctl).
"""

# Target name -> pkg-config modules.
_LIBS = {
    "absl": [
        "absl_status",
        "absl_statusor",
        "absl_strings",
        "absl_str_format",
        "absl_synchronization",
        "absl_time",
        "absl_flags",
        "absl_flags_parse",
        "absl_flags_usage",
        "absl_random_random",
        "absl_hash",
        "absl_raw_hash_set",
    ],
    "benchmark": ["benchmark"],
    "cap": ["libcap"],
    "crypto": ["libcrypto"],
    "gmock": ["gmock"],
    "gtest": ["gtest"],
    "gtest_main": ["gtest_main"],
    "grpc": ["grpc++"],
    "protobuf": ["protobuf"],
    "mnl": ["libmnl"],
    "seccomp": ["libseccomp"],
    "systemd": ["libsystemd"],
}

# Libraries without a pkg-config file of their own: target name -> (modules, extra flags).
_EXTRA = {
    "benchmark_main": (["benchmark"], ["-lbenchmark_main"]),
}

# Modules linked statically into fast-start binaries.
_STATIC_MODULES = ["grpc++", "protobuf"] + _LIBS["absl"]

# Libraries that stay shared even in a "static" link: the C runtime's own pieces.
_ALWAYS_SHARED = ["m", "rt", "pthread", "dl", "atomic", "c", "systemd"]

def _pkg_config(ctx, args):
    result = ctx.execute(["pkg-config"] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed (is the -dev package installed? run tools/deps): %s" %
             (" ".join(args), result.stderr))
    return [t for t in result.stdout.replace("\n", " ").split(" ") if t]

def _static_linkopts(tokens):
    opts = ["-Wl,--as-needed", "-Wl,-Bstatic"]
    for t in tokens:
        if t.startswith("-Wl,--push-state") or t.startswith("-Wl,--pop-state"):
            continue
        if t.startswith("-l") and t[2:] in _ALWAYS_SHARED:
            opts += ["-Wl,-Bdynamic", t, "-Wl,-Bstatic"]
        else:
            opts.append(t)
    return opts + ["-Wl,-Bdynamic"]

# libFuzzer's engine, from Debian's libclang-rt-14-dev (clang names its path): its main()
# drives the fuzz targets in tests/fuzz, which GCC instruments with trace-cmp.
def _libfuzzer_target(ctx):
    result = ctx.execute(["clang", "-print-file-name=libclang_rt.fuzzer-x86_64.a"])
    path = result.stdout.strip()
    if result.return_code != 0 or not path.startswith("/") or not ctx.path(path).exists:
        fail("libFuzzer not found (clang and libclang-rt-14-dev; run tools/deps): %s" %
             (result.stderr or path))
    return [
        "cc_library(",
        '    name = "libfuzzer",',
        "    linkopts = %s," % repr([path, "-lpthread"]),
        ")",
        "",
    ]

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    targets = {name: (modules, []) for name, modules in _LIBS.items()}
    targets.update(_EXTRA)
    for name in sorted(targets.keys()):
        modules, extra = targets[name]
        flags = extra + _pkg_config(ctx, ["--libs"] + modules)
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = %s," % repr(flags))
        lines.append(")")
        lines.append("")
    lines += _libfuzzer_target(ctx)
    ctx.file("BUILD", "\n".join(lines))
    static = _static_linkopts(_pkg_config(ctx, ["--static", "--libs"] + _STATIC_MODULES))
    ctx.file("linkopts.bzl", "STATIC_GRPC_LINKOPTS = %s\n" % repr(static))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
