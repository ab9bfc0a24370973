"""embed_text: compiles a text file (a default configuration) into a C++ header."""

load("@rules_cc//cc:defs.bzl", "cc_library")

def embed_text(name, src, symbol, visibility = None):
    """Creates cc_library `name` with header `<name>.h` defining `constexpr char symbol[]`.

    Args:
      name: target name; the header is `<package>/<name>.h`.
      src: the text file to embed.
      symbol: the C++ identifier (in namespace secureos::embedded).
      visibility: visibility of the library.
    """
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = [name + ".h"],
        cmd = " && ".join([
            "if grep -q ')secureos_embed' $<; then echo 'delimiter in $<' >&2; exit 1; fi",
            "{ echo '// Generated from $< by embed_text. Do not edit.'",
            "echo '#pragma once'",
            "echo 'namespace secureos::embedded {'",
            "echo 'inline constexpr char %s[] = R\"secureos_embed('" % symbol,
            "cat $<",
            "echo ')secureos_embed\";'",
            "echo '}  // namespace secureos::embedded'; } > $@",
        ]),
    )
    cc_library(
        name = name,
        hdrs = [name + ".h"],
        visibility = visibility,
    )
