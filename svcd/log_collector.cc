#include "svcd/log_collector.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "common/status.h"

namespace secureos::svcd {
namespace {

constexpr size_t kReadChunk = 64 << 10;
constexpr int kPipeBytes = 1 << 20;

std::string Rotated(const std::string& path, uint32_t n) { return absl::StrCat(path, ".", n); }

// How much of `data` goes into a file with `room` bytes left: all of it when it fits, else
// the whole lines that fit; 0 means rotate first. A new (`empty`) file takes at least a
// file's worth, so a line longer than a file is cut rather than never written.
size_t FittingPrefix(absl::string_view data, uint64_t room, bool empty) {
  if (data.size() <= room) return data.size();
  const size_t nl = data.substr(0, room).rfind('\n');
  if (nl != absl::string_view::npos) return nl + 1;
  return empty ? std::max<size_t>(room, 1) : 0;
}

// The last `bytes` of the file at `path` (all of it when shorter), from a line start unless
// it is all of the file; "" when it is absent. Sets *whole when it is the whole file.
std::string TailOf(const std::string& path, uint64_t bytes, bool* whole) {
  *whole = true;
  absl::StatusOr<UniqueFd> fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) return "";
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return "";
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  // One byte before the tail too: whether the tail starts a line.
  const uint64_t start = size > bytes ? size - bytes - 1 : 0;
  *whole = start == 0 && size <= bytes;
  std::string out(size - start, '\0');
  ssize_t n = RetryOnEintr([&] { return ::pread(fd->get(), out.data(), out.size(), static_cast<off_t>(start)); });
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  if (!*whole) {
    const size_t nl = out.find('\n');
    out.erase(0, nl == std::string::npos ? out.size() : nl + 1);
  }
  return out;
}

// Reads what `fd` holds from its offset to end of file, handing it to `write`.
bool ReadToEnd(int fd, const std::function<bool(absl::string_view)>& write) {
  std::vector<char> buf(kReadChunk);
  for (;;) {
    ssize_t n = RetryOnEintr([&] { return ::read(fd, buf.data(), buf.size()); });
    if (n <= 0) return true;
    if (!write(absl::string_view(buf.data(), static_cast<size_t>(n)))) return false;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogCollector>> LogCollector::Start(Options options) {
  SECUREOS_RETURN_IF_ERROR(MakeDirs(options.fifo_dir, 0700));
  SECUREOS_RETURN_IF_ERROR(MakeDirs(options.log_dir, 0750));
  SECUREOS_ASSIGN_OR_RETURN(WatchSet set, OpenWatchSet());
  auto c = std::unique_ptr<LogCollector>(new LogCollector(std::move(options), std::move(set)));
  c->thread_ = std::thread([p = c.get()] { p->Loop(); });
  return c;
}

LogCollector::LogCollector(Options options, WatchSet set)
    : options_(std::move(options)),
      set_(std::move(set)),
      max_bytes_(options_.max_bytes),
      files_kept_(options_.files_kept) {}

LogCollector::~LogCollector() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake(set_.wake.get());
  thread_.join();
}

void LogCollector::SetLimits(uint64_t max_bytes, uint32_t files_kept) {
  absl::MutexLock lock(&mu_);
  max_bytes_ = max_bytes;
  files_kept_ = files_kept;
}

std::string LogCollector::LogPath(const std::string& service) const {
  return absl::StrCat(options_.log_dir, "/", service, ".log");
}

absl::Status LogCollector::OpenLogFile(Stream& s) {
  SECUREOS_ASSIGN_OR_RETURN(s.file, OpenFile(LogPath(s.name), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0640));
  struct stat st;
  if (::fstat(s.file.get(), &st) != 0) return ErrnoToStatus(errno, "fstat " + LogPath(s.name));
  s.size = static_cast<uint64_t>(st.st_size);
  return absl::OkStatus();
}

absl::StatusOr<std::string> LogCollector::Open(const std::string& service) {
  const std::string path = absl::StrCat(options_.fifo_dir, "/", service, ".fifo");
  absl::MutexLock lock(&mu_);
  if (streams_.count(service) != 0) return path;
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "mkfifo " + path);
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "lstat " + path);
  if (!S_ISFIFO(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a FIFO"));
  }
  auto s = std::make_unique<Stream>();
  s->name = service;
  // Read-write: the FIFO then always has a writer, so svcd never reads end of file between
  // one run of the service and the next.
  SECUREOS_ASSIGN_OR_RETURN(s->fifo, OpenFile(path, O_RDWR | O_NONBLOCK));
  // A bigger pipe holds more of what a service writes while svcd restarts (best effort).
  (void)::fcntl(s->fifo.get(), F_SETPIPE_SZ, kPipeBytes);
  SECUREOS_RETURN_IF_ERROR(OpenLogFile(*s));
  s->key = next_key_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = s->key;
  if (::epoll_ctl(set_.epoll.get(), EPOLL_CTL_ADD, s->fifo.get(), &ev) != 0) {
    return ErrnoToStatus(errno, "epoll_ctl " + path);
  }
  by_key_[s->key] = s.get();
  // What a previous svcd left unread.
  Drain(*s);
  streams_[service] = std::move(s);
  return path;
}

void LogCollector::Close(const std::string& service) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(service);
  if (it == streams_.end()) return;
  Drain(*it->second);
  (void)::epoll_ctl(set_.epoll.get(), EPOLL_CTL_DEL, it->second->fifo.get(), nullptr);
  by_key_.erase(it->second->key);
  streams_.erase(it);
  ::unlink(absl::StrCat(options_.fifo_dir, "/", service, ".fifo").c_str());
}

void LogCollector::Loop() {
  epoll_event events[32];
  for (;;) {
    const int n = ::epoll_wait(set_.epoll.get(), events, 32, -1);
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    for (int i = 0; i < n; ++i) {
      auto it = by_key_.find(events[i].data.u64);
      if (it != by_key_.end()) Drain(*it->second);
    }
    if (n > 0) {
      uint64_t ignored;
      (void)!::read(set_.wake.get(), &ignored, sizeof(ignored));
    }
  }
}

void LogCollector::Drain(Stream& s) {
  std::vector<char> buf(kReadChunk);
  for (;;) {
    ssize_t n = RetryOnEintr([&] { return ::read(s.fifo.get(), buf.data(), buf.size()); });
    if (n <= 0) break;  // EAGAIN: empty for now.
    if (absl::Status a = Append(s, absl::string_view(buf.data(), static_cast<size_t>(n))); !a.ok()) {
      // Never silent: the loss is in svcd's own log (monitord sees disk trouble there).
      Log(LogLevel::kError, "service log write failed", {{"service", s.name}, {"error", std::string(a.message())}});
    }
  }
  written_.SignalAll();
}

absl::Status LogCollector::Append(Stream& s, absl::string_view data) {
  while (!data.empty()) {
    const size_t take = FittingPrefix(data, max_bytes_ - std::min(s.size, max_bytes_), s.size == 0);
    if (take == 0) {
      SECUREOS_RETURN_IF_ERROR(Rotate(s));
      continue;
    }
    SECUREOS_RETURN_IF_ERROR(WriteAll(s.file.get(), data.substr(0, take)));
    s.size += take;
    data.remove_prefix(take);
  }
  return absl::OkStatus();
}

absl::Status LogCollector::Rotate(Stream& s) {
  const std::string path = LogPath(s.name);
  s.file.Reset();
  if (files_kept_ == 0) {
    ::unlink(path.c_str());
  } else {
    ::unlink(Rotated(path, files_kept_).c_str());
    for (uint32_t i = files_kept_ - 1; i >= 1; --i) {
      (void)::rename(Rotated(path, i).c_str(), Rotated(path, i + 1).c_str());
    }
    if (::rename(path.c_str(), Rotated(path, 1).c_str()) != 0) {
      return ErrnoToStatus(errno, "rotate " + path);
    }
  }
  ++rotations_[s.name];
  written_.SignalAll();
  return OpenLogFile(s);
}

absl::Status LogCollector::Read(const std::string& service, uint64_t tail_bytes, bool follow,
                                const std::function<bool(absl::string_view)>& write,
                                const std::function<bool()>& cancelled) {
  const std::string path = LogPath(service);
  uint64_t rotations;
  UniqueFd fd;
  std::string tail;
  {
    // Under the lock, so no rotation happens between the tail and the follow position.
    absl::MutexLock lock(&mu_);
    absl::StatusOr<UniqueFd> opened = OpenFile(path, O_RDONLY);
    if (!opened.ok()) {
      if (opened.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat("name: no log for service \"", service, "\""));
      }
      return opened.status();
    }
    fd = std::move(*opened);
    rotations = rotations_[service];
    bool whole;
    tail = TailOf(path, tail_bytes, &whole);
    if (whole && tail.size() < tail_bytes && files_kept_ > 0) {
      tail = TailOf(Rotated(path, 1), tail_bytes - tail.size(), &whole) + tail;
    }
    if (::lseek(fd.get(), 0, SEEK_END) < 0) return ErrnoToStatus(errno, "lseek " + path);
  }
  if (!tail.empty() && !write(tail)) return absl::OkStatus();
  while (follow) {
    if (!ReadToEnd(fd.get(), write)) return absl::OkStatus();
    bool rotated;
    {
      absl::MutexLock lock(&mu_);
      rotated = rotations_[service] != rotations;
      if (!rotated) written_.WaitWithTimeout(&mu_, absl::Milliseconds(200));
      rotated = rotations_[service] != rotations;
      if (rotated) rotations = rotations_[service];
    }
    if (rotated) {
      if (!ReadToEnd(fd.get(), write)) return absl::OkStatus();  // The rest of the old file.
      absl::StatusOr<UniqueFd> next = OpenFile(path, O_RDONLY);
      if (!next.ok()) return next.status();
      fd = std::move(*next);
    }
    if (cancelled()) return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace secureos::svcd
