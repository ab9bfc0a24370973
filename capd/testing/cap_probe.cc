// A tiny program that capd's tests spawn to see what a process can really do.
//   cap_probe bind PORT      exit 0 if it can bind 127.0.0.1:PORT, 13 on EACCES, 1 otherwise
//   cap_probe securebits     print prctl(PR_GET_SECUREBITS) in decimal
//   cap_probe ids            print "ruid euid suid"
//   cap_probe sleep SECONDS  sleep, then exit 0
//   cap_probe drop SECONDS   drop every capability from all sets it can, then sleep
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "bind") == 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return 0;
    std::printf("bind: %s\n", std::strerror(errno));
    return errno == EACCES ? 13 : 1;
  }
  if (argc == 3 && std::strcmp(argv[1], "serve") == 0) {  // Bind, listen, stay.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 1) != 0) {
      std::printf("serve: %s\n", std::strerror(errno));
      return errno == EACCES ? 13 : 1;
    }
    std::printf("serving\n");
    std::fflush(stdout);
    for (;;) ::pause();
  }
  if (argc == 2 && std::strcmp(argv[1], "securebits") == 0) {
    std::printf("%d\n", ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "ids") == 0) {
    uid_t r, e, s;
    ::getresuid(&r, &e, &s);
    std::printf("%u %u %u\n", r, e, s);
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "sleep") == 0) {
    ::sleep(static_cast<unsigned>(std::atoi(argv[2])));
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "drop") == 0) {
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2] = {};
    if (::syscall(SYS_capset, &h, d) != 0) return 1;
    ::sleep(static_cast<unsigned>(std::atoi(argv[2])));
    return 0;
  }
  std::fprintf(stderr, "usage: cap_probe bind PORT | serve PORT | securebits | ids | sleep SECONDS\n");
  return 2;
}
