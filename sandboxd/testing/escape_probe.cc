// What an attacker inside a sandbox would try; sandboxd's tests run it as the workload.
// Each command prints one line "<name>: ok" or "<name>: <errno text>" and exits 0 unless
// said otherwise, so a test reads exactly what the kernel answered.
//   pids                   how many processes /proc lists
//   kill PID               kill(PID, 0)
//   ptrace PID             PTRACE_ATTACH
//   readlink PATH          readlink
//   ls PATH                list a directory (names, one line)
//   mount | unshare | setns   try each (a tmpfs on /tmp; CLONE_NEWUSER; /proc/1/ns/net)
//   connect IP PORT        TCP connect
//   listen_loopback        bind+listen+connect on 127.0.0.1 (loopback up?)
//   write PATH             create and write PATH
//   fds                    the open fds, except the one used to list them
//   chdir_fds              chdir("/proc/self/fd/N") for N in 0..64: prints the ones that worked
//   tiocsti                TIOCSTI/TIOCLINUX on fds 0-2 and /dev/tty
//   int80                  a 32-bit getpid through int $0x80 (should be killed)
//   forkbomb               fork until it fails; prints how many it made
//   memhog MIB             allocate and touch MIB mebibytes
//   spin                   burn CPU forever
//   mkdir PATH             mkdir
//   id                     "uid gid"
//   caps                   the CapEff line of /proc/self/status
//   bind PORT              bind 127.0.0.1:PORT
//   notify PATH TEXT       what sd_notify(3) does: an AF_UNIX datagram socket, connect to
//                          PATH, send TEXT (a service telling svcd "READY=1")
//   memhold MIB            like memhog, then prints and waits (until killed)
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int Report(const char* what, int rc) {
  std::printf("%s: %s\n", what, rc == 0 ? "ok" : std::strerror(errno));
  return 0;
}

int Pids() {
  int n = 0;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return Report("pids", -1);
  while (dirent* e = ::readdir(d)) n += std::atoi(e->d_name) > 0;
  ::closedir(d);
  std::printf("pids: %d\n", n);
  return 0;
}

int Ls(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) return Report("ls", -1);
  while (dirent* e = ::readdir(d)) std::printf("%s\n", e->d_name);
  ::closedir(d);
  return 0;
}

int Fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return Report("fds", -1);
  std::string out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' || std::atoi(e->d_name) == ::dirfd(d)) continue;
    out += std::string(out.empty() ? "" : " ") + e->d_name;
  }
  ::closedir(d);
  std::printf("fds: %s\n", out.c_str());
  return 0;
}

int ChdirFds() {
  std::string worked;
  for (int n = 0; n <= 64; ++n) {
    const std::string p = "/proc/self/fd/" + std::to_string(n);
    if (::chdir(p.c_str()) == 0) worked += " " + std::to_string(n);
  }
  std::printf("chdir_fds:%s\n", worked.empty() ? " none" : worked.c_str());
  return 0;
}

int Tiocsti() {
  char c = 'x';
  int worked = 0;
  for (int fd = 0; fd < 3; ++fd) {
    worked += ::ioctl(fd, TIOCSTI, &c) == 0;
    char linux_cmd = 6;  // TIOCL_SETSEL-like subcode: any subcode must fail off a VT.
    worked += ::ioctl(fd, TIOCLINUX, &linux_cmd) == 0;
  }
  const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty >= 0) worked += ::ioctl(tty, TIOCSTI, &c) == 0;
  // A pty of its own: injecting into it, even with junk in the request's upper bits.
  const int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0;
  int pty_tried = 0;
  if (master >= 0 && ::ioctl(master, TIOCSPTLCK, &unlock) == 0) {
    const int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
      pty_tried = 1;
      worked += ::syscall(SYS_ioctl, slave, TIOCSTI, &c) == 0;
      worked += ::syscall(SYS_ioctl, slave, (1ul << 32) | TIOCSTI, &c) == 0;
      char linux_cmd = 6;
      worked += ::syscall(SYS_ioctl, slave, TIOCLINUX, &linux_cmd) == 0;
    }
  }
  std::printf("tiocsti: %d worked (pty %s)\n", worked, pty_tried ? "tried" : "unavailable");
  return 0;
}

int Int80() {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");  // i386 getpid.
  std::printf("int80: returned %ld\n", ret);
  return 0;
}

int ForkBomb() {
  int made = 0;
  for (;;) {
    const pid_t p = ::fork();
    if (p == 0) {
      ::pause();
      ::_exit(0);
    }
    if (p < 0) break;
    if (++made >= 10000) break;
  }
  std::printf("forkbomb: made %d, then %s\n", made, std::strerror(errno));
  std::fflush(stdout);
  ::kill(0, SIGKILL);
  return 0;
}

int MemHog(int mib) {
  std::vector<char*> blocks;
  for (int i = 0; i < mib; ++i) {
    char* b = static_cast<char*>(std::malloc(1 << 20));
    if (b == nullptr) return Report("memhog", -1);
    std::memset(b, 1, 1 << 20);
    blocks.push_back(b);
  }
  std::printf("memhog: touched %d MiB\n", mib);
  return 0;
}

int Connect(const char* ip, int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Report("connect", -1);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return Report("connect", ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
}

int ListenLoopback() {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(l, 1) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return Report("listen_loopback", -1);
  }
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  return Report("listen_loopback", ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
}

int Notify(const char* path, const char* text) {
  const int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Report("notify", -1);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return Report("notify", -1);
  const ssize_t n = ::send(s, text, std::strlen(text), MSG_NOSIGNAL);
  return Report("notify", n == static_cast<ssize_t>(std::strlen(text)) ? 0 : -1);
}

int MemHold(int mib) {
  std::vector<char*> blocks;
  for (int i = 0; i < mib; ++i) {
    char* b = static_cast<char*>(std::malloc(1 << 20));
    if (b == nullptr) return Report("memhold", -1);
    std::memset(b, 1, 1 << 20);
    blocks.push_back(b);
  }
  std::printf("memhold: touched %d MiB\n", mib);
  std::fflush(stdout);
  for (;;) ::pause();
}

int Write(const char* path) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Report("write", -1);
  return Report("write", ::write(fd, "escaped\n", 8) == 8 ? 0 : -1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string cmd = argv[1];
  const char* arg = argc > 2 ? argv[2] : "";
  if (cmd == "pids") return Pids();
  if (cmd == "kill") return Report("kill", ::kill(std::atoi(arg), 0));
  if (cmd == "ptrace") return Report("ptrace", static_cast<int>(::ptrace(PTRACE_ATTACH, std::atoi(arg), 0, 0)));
  if (cmd == "readlink") {
    char buf[4096];
    const ssize_t n = ::readlink(arg, buf, sizeof(buf) - 1);
    if (n < 0) return Report("readlink", -1);
    buf[n] = '\0';
    std::printf("readlink: %s\n", buf);
    return 0;
  }
  if (cmd == "ls") return Ls(arg);
  if (cmd == "mount") return Report("mount", ::mount("none", "/tmp", "tmpfs", 0, nullptr));
  if (cmd == "unshare") return Report("unshare", ::unshare(CLONE_NEWUSER));
  if (cmd == "setns") {
    const int fd = ::open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
    return Report("setns", fd < 0 ? -1 : ::setns(fd, CLONE_NEWNET));
  }
  if (cmd == "connect" && argc == 4) return Connect(arg, std::atoi(argv[3]));
  if (cmd == "listen_loopback") return ListenLoopback();
  if (cmd == "write") return Write(arg);
  if (cmd == "fds") return Fds();
  if (cmd == "chdir_fds") return ChdirFds();
  if (cmd == "tiocsti") return Tiocsti();
  if (cmd == "int80") return Int80();
  if (cmd == "forkbomb") return ForkBomb();
  if (cmd == "memhog") return MemHog(std::atoi(arg));
  if (cmd == "memhold") return MemHold(std::atoi(arg));
  if (cmd == "notify" && argc == 4) return Notify(arg, argv[3]);
  if (cmd == "spin") for (volatile unsigned long i = 0;; ++i) {}
  if (cmd == "mkdir") return Report("mkdir", ::mkdir(arg, 0755));
  if (cmd == "caps") {
    FILE* f = std::fopen("/proc/self/status", "re");
    char line[256];
    while (f != nullptr && std::fgets(line, sizeof(line), f) != nullptr) {
      if (std::strncmp(line, "CapEff:", 7) == 0) std::printf("caps: %s", line + 8);
    }
    return 0;
  }
  if (cmd == "bind") {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::atoi(arg)));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return Report("bind", ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
  }
  if (cmd == "id") {
    std::printf("id: %u %u\n", ::getuid(), ::getgid());
    return 0;
  }
  return 2;
}
