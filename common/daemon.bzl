"""secureos_daemon: a daemon binary with its embedded default configuration."""

load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//common:embed.bzl", "embed_text")

def secureos_daemon(name, deps, srcs = ["main.cc"], visibility = None):
    """Builds daemon `name` from `srcs`, embedding `default.conf` as kDefaultConfig.

    Args:
      name: the daemon and binary name ("capd").
      deps: the daemon's libraries and protos.
      srcs: the wiring (main.cc).
      visibility: of the binary (the package default when None).
    """
    native.exports_files(["default.conf"])
    embed_text(
        name = "default_config",
        src = "default.conf",
        symbol = "kDefaultConfig",
    )
    cc_binary(
        name = name,
        srcs = srcs,
        deps = [":default_config"] + deps,
        visibility = visibility,
    )
