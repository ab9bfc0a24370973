base: "strict"
rules { syscalls: "socket" syscalls: "bind" action: SECCOMP_ACTION_ALLOW }
