"""secureos_fuzz_test: a libFuzzer target that `bazel test` runs for a bounded time.

The target is compiled by GCC with -fsanitize-coverage=trace-cmp (GCC emits the same
__sanitizer_cov_trace_cmp* calls clang does) and linked with libFuzzer's engine from Debian's
libclang-rt-14-dev, whose main() drives LLVMFuzzerTestOneInput. Under `bazel test` it replays
the checked-in seed corpus, then mutates for `seconds` (FUZZ_SECONDS overrides); in the asan
configuration every input also runs under AddressSanitizer+UBSan. tools/fuzz runs one target
for longer with the library code instrumented too.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")

def secureos_fuzz_test(name, srcs, deps, corpus, seconds = 15, tags = []):
    cc_binary(
        name = name + "_bin",
        srcs = srcs,
        copts = ["-fsanitize-coverage=trace-cmp"],
        deps = deps + [
            "//tests/fuzz:gcc_cov_hooks",
            "//third_party:libfuzzer",
        ],
        testonly = True,
    )
    native.sh_test(
        name = name,
        srcs = ["run_fuzz_test.sh"],
        args = [
            "$(rootpath :%s_bin)" % name,
            "tests/fuzz/corpus/" + corpus,
            str(seconds),
        ],
        data = [":%s_bin" % name] + native.glob(["corpus/%s/**" % corpus]),
        size = "medium",
        tags = ["fuzz"] + tags,
    )
