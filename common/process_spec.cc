#include "common/process_spec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace secureos {
namespace {

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

std::optional<int> RlimitResource(common::v1::RlimitResource r) {
  switch (r) {
    case common::v1::RLIMIT_RESOURCE_AS: return RLIMIT_AS;
    case common::v1::RLIMIT_RESOURCE_CPU: return RLIMIT_CPU;
    case common::v1::RLIMIT_RESOURCE_FSIZE: return RLIMIT_FSIZE;
    case common::v1::RLIMIT_RESOURCE_NOFILE: return RLIMIT_NOFILE;
    case common::v1::RLIMIT_RESOURCE_NPROC: return RLIMIT_NPROC;
    case common::v1::RLIMIT_RESOURCE_STACK: return RLIMIT_STACK;
    case common::v1::RLIMIT_RESOURCE_CORE: return RLIMIT_CORE;
    default: return std::nullopt;
  }
}

}  // namespace

void CheckArgvEnv(const google::protobuf::RepeatedPtrField<std::string>& argv,
                  const google::protobuf::RepeatedPtrField<std::string>& env, FieldErrors* errors) {
  if (argv.empty()) {
    errors->Add("argv", "required: at least the program to run");
  } else if (argv[0].empty() || argv[0][0] != '/') {
    errors->Add("argv[0]", absl::StrCat("must be an absolute path, got \"", argv[0], "\""));
  }
  for (int i = 0; i < argv.size(); ++i) {
    if (HasNul(argv[i])) errors->Add(absl::StrCat("argv[", i, "]"), "contains a NUL byte");
  }
  for (int i = 0; i < env.size(); ++i) {
    const std::string& e = env[i];
    if (e.find('=') == std::string::npos || e[0] == '=' || HasNul(e)) {
      errors->Add(absl::StrCat("env[", i, "]"), "must be KEY=value without NUL bytes");
    }
  }
}

std::optional<std::pair<int, rlimit>> CheckRlimit(const common::v1::Rlimit& r,
                                                  const std::string& field, FieldErrors* errors) {
  std::optional<int> resource = RlimitResource(r.resource());
  if (!resource) {
    errors->Add(field + ".resource", "required (RLIMIT_RESOURCE_*)");
    return std::nullopt;
  }
  rlimit lim;
  if (r.infinity()) {
    if (r.has_soft() || r.has_hard()) {
      errors->Add(field, "infinity excludes soft and hard");
      return std::nullopt;
    }
    lim.rlim_cur = lim.rlim_max = RLIM_INFINITY;
    return std::pair{*resource, lim};
  }
  if (!r.has_hard()) {
    errors->Add(field + ".hard", "required (or infinity: true)");
    return std::nullopt;
  }
  lim.rlim_max = r.hard();
  lim.rlim_cur = r.has_soft() ? r.soft() : r.hard();
  if (lim.rlim_max == RLIM_INFINITY || lim.rlim_cur == RLIM_INFINITY) {
    errors->Add(field, "use infinity: true for RLIM_INFINITY");
    return std::nullopt;
  }
  if (lim.rlim_cur > lim.rlim_max) {
    errors->Add(field + ".soft", "must not exceed hard");
    return std::nullopt;
  }
  return std::pair{*resource, lim};
}

absl::Status OpenNullStdio(Stdio* stdio) {
  SECUREOS_ASSIGN_OR_RETURN(stdio->in, OpenFile("/dev/null", O_RDONLY));
  SECUREOS_ASSIGN_OR_RETURN(stdio->out, OpenFile("/dev/null", O_WRONLY));
  SECUREOS_ASSIGN_OR_RETURN(stdio->err, OpenFile("/dev/null", O_WRONLY));
  return absl::OkStatus();
}

absl::Status OpenStreamedStdio(Stdio* stdio) {
  SECUREOS_ASSIGN_OR_RETURN(stdio->in, OpenFile("/dev/null", O_RDONLY));
  for (auto [read_end, write_end] : {std::pair{&stdio->out_read, &stdio->out},
                                     std::pair{&stdio->err_read, &stdio->err}}) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
    read_end->Reset(p[0]);
    write_end->Reset(p[1]);
    if (::fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) return ErrnoToStatus(errno, "fcntl O_NONBLOCK");
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<UniqueFd> OpenOutputFile(const char* field, const std::string& path) {
  const std::string context = absl::StrCat(field, ": open ", path);
  const int fd = RetryOnEintr([&] {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
                  0640);
  });
  if (fd < 0) {
    const int err = errno;
    if (err == ENXIO) {
      return absl::FailedPreconditionError(
          absl::StrCat(ErrnoToStatus(err, context).message(), " (a FIFO that nothing has open for reading)"));
    }
    if (err == ELOOP) return absl::InvalidArgumentError(absl::StrCat(context, ": is a symbolic link"));
    return ErrnoToStatus(err, context);
  }
  UniqueFd out(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, absl::StrCat(field, ": fstat ", path));
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": not a regular file or a FIFO"));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return ErrnoToStatus(errno, absl::StrCat(field, ": clear O_NONBLOCK on ", path));
  }
  return out;
}

}  // namespace

absl::Status OpenFileStdio(const std::string& stdout_path, const std::string& stderr_path,
                           Stdio* stdio) {
  SECUREOS_ASSIGN_OR_RETURN(stdio->in, OpenFile("/dev/null", O_RDONLY));
  SECUREOS_ASSIGN_OR_RETURN(stdio->out, OpenOutputFile("stdout_path", stdout_path));
  if (stderr_path == stdout_path) {
    const int fd = ::fcntl(stdio->out.get(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return ErrnoToStatus(errno, "stderr_path: dup of stdout_path");
    stdio->err.Reset(fd);
    return absl::OkStatus();
  }
  SECUREOS_ASSIGN_OR_RETURN(stdio->err, OpenOutputFile("stderr_path", stderr_path));
  return absl::OkStatus();
}

std::vector<char*> CStringArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace secureos
