// Real cgroups on the real kernel: needs root, tagged "local". Every cgroup lives under
// "secureos-test/cgroup-<pid>", removed by TearDown even when a test fails.
#include "sandboxd/cgroup/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1024 * 1024;

std::string Slurp(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? std::string(absl::StripAsciiWhitespace(*text)) : "<" + path + " unreadable>";
}

bool DirExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<pid_t> ProcsOf(const std::string& dir) {
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(Slurp(dir + "/cgroup.procs"), '\n',
                                               absl::SkipEmpty())) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(line, &pid)) pids.push_back(pid);
  }
  return pids;
}

// A forked child that ran `body` after entering the cgroup; killed and reaped if a test
// leaves it running.
class ForkedChild {
 public:
  // `body` runs in the child after EnterFromChild() and returns its exit code. It reports
  // through `report_fd` (the write end of a pipe) when it wants to.
  template <typename Body>
  ForkedChild(const Cgroup& cgroup, Body body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      int err = cgroup.EnterFromChild();
      if (err != 0) ::_exit(100);
      ::_exit(body(fds[1]));
    }
    ::close(fds[1]);
    read_end_.Reset(fds[0]);
  }
  ~ForkedChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // Reads what the child reported, up to end of file.
  std::string ReadReport() {
    absl::StatusOr<std::string> text = ReadAll(read_end_.get());
    return text.ok() ? *text : "";
  }
  // Reads exactly `n` bytes (or fewer at end of file).
  std::string ReadBytes(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = RetryOnEintr([&] { return ::read(read_end_.get(), &out[got], n - got); });
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }
  int Wait() {
    int status = -1;
    if (pid_ > 0 && RetryOnEintr([&] { return ::waitpid(pid_, &status, 0); }) == pid_) {
      pid_ = -1;
    }
    return status;
  }

 private:
  pid_t pid_ = -1;
  UniqueFd read_end_;
};

void Report(int fd, const std::string& text) {
  ssize_t n = ::write(fd, text.data(), text.size());
  (void)n;
}

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto layout = CgroupLayout::Discover();
    ASSERT_TRUE(layout.ok()) << layout.status();
    layout_ = *layout;
    parent_ = absl::StrCat("secureos-test/cgroup-", ::getpid());
  }

  // Removes whatever a failed test left: leaves (after killing their processes), then
  // "cgroup-<pid>", then "secureos-test" (only if empty: a concurrent run may use it).
  void TearDown() override {
    for (const CgroupHierarchy& h : layout_.hierarchies()) {
      std::string top = h.mount_point + "/secureos-test";
      std::string dir = top + "/cgroup-" + std::to_string(::getpid());
      if (!DirExists(dir)) continue;
      for (const std::string& leaf : Leaves(dir)) {
        for (int i = 0; i < 200 && !ProcsOf(leaf).empty(); ++i) {
          for (pid_t pid : ProcsOf(leaf)) ::kill(pid, SIGKILL);
          absl::SleepFor(absl::Milliseconds(5));
        }
        ::rmdir(leaf.c_str());
      }
      EXPECT_EQ(::rmdir(dir.c_str()), 0) << dir << ": " << std::strerror(errno);
      ::rmdir(top.c_str());
    }
  }

  static std::vector<std::string> Leaves(const std::string& dir) {
    std::vector<std::string> out;
    for (const char* name : {"limits", "join", "fork", "oom", "tree", "destroy", "stats",
                             "exists", "empty"}) {
      if (DirExists(dir + "/" + name)) out.push_back(dir + "/" + name);
    }
    return out;
  }

  std::unique_ptr<Cgroup> MustCreate(const std::string& name, const CgroupLimits& limits) {
    auto cgroup = Cgroup::Create(layout_, parent_, name, limits);
    EXPECT_TRUE(cgroup.ok()) << cgroup.status();
    return cgroup.ok() ? std::move(*cgroup) : nullptr;
  }

  const CgroupHierarchy* Need(CgroupController c) {
    const CgroupHierarchy* h = layout_.Find(c);
    if (h == nullptr) {
      ADD_FAILURE() << "no " << CgroupControllerName(c) << ": " << layout_.Describe();
    }
    return h;
  }

  std::string Leaf(const CgroupHierarchy& h, const std::string& name) const {
    return absl::StrCat(h.mount_point, "/", parent_, "/", name);
  }

  CgroupLayout layout_;
  std::string parent_;
};

TEST_F(CgroupTest, LimitsAreWrittenWhereEachControllerLives) {
  auto cgroup = MustCreate("limits", {64 * kMiB, 250, 16});
  ASSERT_NE(cgroup, nullptr);
  const CgroupHierarchy* mem = Need(CgroupController::kMemory);
  const CgroupHierarchy* cpu = Need(CgroupController::kCpu);
  const CgroupHierarchy* pids = Need(CgroupController::kPids);
  ASSERT_TRUE(mem && cpu && pids);
  std::string m = Leaf(*mem, "limits");
  if (mem->version == 1) {
    EXPECT_EQ(Slurp(m + "/memory.limit_in_bytes"), "67108864");
    if (access((m + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0) {
      EXPECT_EQ(Slurp(m + "/memory.memsw.limit_in_bytes"), "67108864");
    }
  } else {
    EXPECT_EQ(Slurp(m + "/memory.max"), "67108864");
    if (access((m + "/memory.swap.max").c_str(), F_OK) == 0) {
      EXPECT_EQ(Slurp(m + "/memory.swap.max"), "0");
    }
  }
  std::string c = Leaf(*cpu, "limits");
  if (cpu->version == 1) {
    EXPECT_EQ(Slurp(c + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(Slurp(c + "/cpu.cfs_quota_us"), "25000");
  } else {
    EXPECT_EQ(Slurp(c + "/cpu.max"), "25000 100000");
  }
  EXPECT_EQ(Slurp(Leaf(*pids, "limits") + "/pids.max"), "16");
  ASSERT_EQ(cgroup->paths().size(), layout_.hierarchies().size());
  for (const std::string& path : cgroup->paths()) EXPECT_TRUE(DirExists(path)) << path;
  EXPECT_EQ(cgroup->procs_fds().size(), layout_.hierarchies().size());
  EXPECT_EQ(cgroup->clone_into_fd() >= 0, layout_.unified());
}

TEST_F(CgroupTest, ChildWritingZeroToProcsFdsLandsInEveryHierarchy) {
  auto cgroup = MustCreate("join", {});
  ASSERT_NE(cgroup, nullptr);
  ForkedChild child(*cgroup, [](int report) {
    Report(report, "in");
    ::pause();
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  ASSERT_EQ(child.ReadBytes(2), "in");
  std::string want = absl::StrCat("/", parent_, "/join");
  std::string own = Slurp(absl::StrCat("/proc/", child.pid(), "/cgroup"));
  // Lines are "id:controllers:path"; v2 is "0::path".
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    bool found = false;
    for (absl::string_view line : absl::StrSplit(own, '\n')) {
      std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
      if (f.size() != 3) continue;
      std::vector<std::string> names = absl::StrSplit(f[1], ',');
      bool same = h.version == 2 ? f[1].empty()
                                 : std::find(names.begin(), names.end(),
                                             CgroupControllerName(h.controllers[0])) !=
                                       names.end();
      if (!same) continue;
      found = true;
      EXPECT_TRUE(absl::EndsWith(f[2], want)) << line << " wanted " << want;
    }
    EXPECT_TRUE(found) << h.mount_point << " missing from:\n" << own;
  }
  for (const std::string& path : cgroup->paths()) {
    EXPECT_THAT(ProcsOf(path), ::testing::ElementsAre(child.pid())) << path;
  }
}

TEST_F(CgroupTest, PidsLimitStopsAForkLoop) {
  ASSERT_NE(Need(CgroupController::kPids), nullptr);
  auto cgroup = MustCreate("fork", {std::nullopt, std::nullopt, 16});
  ASSERT_NE(cgroup, nullptr);
  ForkedChild child(*cgroup, [](int report) {
    int forked = 0;
    int err = 0;
    for (int i = 0; i < 64; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::close(report);  // Lets the test see end of file once the child closes its copy.
        ::pause();
        ::_exit(0);
      }
      if (pid < 0) {
        err = errno;
        break;
      }
      ++forked;
    }
    Report(report, absl::StrCat(forked, " ", err));
    ::close(report);
    ::pause();
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  std::vector<std::string> parts = absl::StrSplit(child.ReadReport(), ' ');
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "15");  // 16 tasks: the child itself and 15 more.
  EXPECT_EQ(parts[1], std::to_string(EAGAIN));
  auto stats = cgroup->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->pids_current, 16u);
  ASSERT_TRUE(cgroup->KillAll().ok());
}

TEST_F(CgroupTest, AllocationBeyondTheMemoryLimitIsOomKilled) {
  ASSERT_NE(Need(CgroupController::kMemory), nullptr);
  auto cgroup = MustCreate("oom", {32 * kMiB, std::nullopt, std::nullopt});
  ASSERT_NE(cgroup, nullptr);
  ForkedChild child(*cgroup, [](int) {
    size_t size = 200 * kMiB;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    std::memset(p, 0x5a, size);  // Touch every page.
    return 0;                    // Survived: the limit did not hold.
  });
  ASSERT_GT(child.pid(), 0);
  int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto stats = cgroup->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_TRUE(stats->oom_kills.has_value());
  EXPECT_GE(*stats->oom_kills, 1u);
  ASSERT_TRUE(stats->memory_peak_bytes.has_value());
  EXPECT_LE(*stats->memory_peak_bytes, 32 * kMiB);
  EXPECT_GE(*stats->memory_peak_bytes, 16 * kMiB);
}

TEST_F(CgroupTest, KillAllKillsASleepingTree) {
  auto cgroup = MustCreate("tree", {});
  ASSERT_NE(cgroup, nullptr);
  ForkedChild child(*cgroup, [](int report) {
    // Two levels of grandchildren, all asleep; each reports its pid as 4 bytes.
    for (int i = 0; i < 3; ++i) {
      if (::fork() == 0) {
        if (::fork() == 0) {
          pid_t self = ::getpid();
          Report(report, std::string(reinterpret_cast<char*>(&self), sizeof(self)));
          ::pause();
          ::_exit(0);
        }
        pid_t self = ::getpid();
        Report(report, std::string(reinterpret_cast<char*>(&self), sizeof(self)));
        ::pause();
        ::_exit(0);
      }
    }
    ::pause();
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  std::string raw = child.ReadBytes(6 * sizeof(pid_t));
  ASSERT_EQ(raw.size(), 6 * sizeof(pid_t));
  std::vector<pid_t> descendants(6);
  std::memcpy(descendants.data(), raw.data(), raw.size());
  ASSERT_EQ(ProcsOf(cgroup->paths()[0]).size(), 7u);

  absl::Status killed = cgroup->KillAll();
  ASSERT_TRUE(killed.ok()) << killed;
  for (const std::string& path : cgroup->paths()) EXPECT_TRUE(ProcsOf(path).empty()) << path;
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (pid_t pid : descendants) {
    // Gone, or a zombie waiting for init to reap it.
    std::string stat = Slurp(absl::StrCat("/proc/", pid, "/stat"));
    EXPECT_TRUE(absl::StrContains(stat, "unreadable") || absl::StrContains(stat, ") Z "))
        << stat;
  }
  EXPECT_TRUE(cgroup->KillAll().ok());  // Nothing left: returns at once.
}

TEST_F(CgroupTest, KillAllWithoutCgroup2KillsThroughTheProcsLoop) {
  // This host's layout without its cgroup2 mount: no cgroup.kill, only the v1 loop.
  std::string mountinfo = Slurp("/proc/self/mountinfo");
  std::string v1_lines;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    if (!absl::StrContains(line, " - cgroup2 ")) absl::StrAppend(&v1_lines, line, "\n");
  }
  auto v1 = CgroupLayout::FromMountinfo(v1_lines, [](const std::string& p) {
    return absl::StatusOr<std::string>(absl::NotFoundError(p));
  });
  ASSERT_TRUE(v1.ok()) << v1.status();
  if (v1->hierarchies().empty()) GTEST_SKIP() << "no v1 hierarchy: " << layout_.Describe();
  auto cgroup = Cgroup::Create(*v1, parent_, "tree", {});
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  ForkedChild child(**cgroup, [](int report) {
    for (int i = 0; i < 4; ++i) {
      if (::fork() == 0) break;  // Each child forks the next: a chain of 5.
    }
    Report(report, "x");
    ::pause();
    return 0;
  });
  ASSERT_EQ(child.ReadBytes(5), "xxxxx");
  ASSERT_EQ(ProcsOf((*cgroup)->paths()[0]).size(), 5u);
  absl::Status killed = (*cgroup)->KillAll();
  ASSERT_TRUE(killed.ok()) << killed;
  for (const std::string& path : (*cgroup)->paths()) EXPECT_TRUE(ProcsOf(path).empty()) << path;
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE((*cgroup)->Destroy().ok());
}

TEST_F(CgroupTest, CpuQuotaThrottlesABusyLoop) {
  const CgroupHierarchy* cpu = Need(CgroupController::kCpu);
  ASSERT_NE(cpu, nullptr);
  auto cgroup = MustCreate("stats", {std::nullopt, 100, std::nullopt});  // A tenth of a CPU.
  ASSERT_NE(cgroup, nullptr);
  absl::Time start = absl::Now();
  ForkedChild child(*cgroup, [](int) {
    struct timespec used;
    do {  // Burn 100 ms of CPU.
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used);
    } while (used.tv_sec == 0 && used.tv_nsec < 100000000L);
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  int status = child.Wait();
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Unthrottled this takes ~100 ms; at 10 ms per 100 ms period, ~900 ms.
  EXPECT_GE(took, absl::Milliseconds(750));
  auto throttled = [&] {
    absl::StatusOr<std::string> text = ReadFile(Leaf(*cpu, "stats") + "/cpu.stat");
    if (!text.ok()) return std::string("<unreadable>");
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      if (absl::StartsWith(line, "nr_throttled ")) return std::string(line.substr(13));
    }
    return std::string("<absent>");
  }();
  EXPECT_NE(throttled, "0");
  EXPECT_NE(throttled, "<absent>");
}

TEST_F(CgroupTest, DestroyRemovesEveryDirectoryAndIsIdempotent) {
  auto cgroup = MustCreate("destroy", {std::nullopt, 100, 8});
  ASSERT_NE(cgroup, nullptr);
  std::vector<std::string> paths = cgroup->paths();
  ASSERT_FALSE(paths.empty());
  for (const std::string& path : paths) ASSERT_TRUE(DirExists(path)) << path;
  absl::Status destroyed = cgroup->Destroy();
  ASSERT_TRUE(destroyed.ok()) << destroyed;
  for (const std::string& path : paths) EXPECT_FALSE(DirExists(path)) << path;
  EXPECT_TRUE(cgroup->Destroy().ok());
  EXPECT_TRUE(cgroup->procs_fds().empty());
  EXPECT_EQ(cgroup->Stats().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CgroupTest, DestroyRefusesWhileProcessesRemain) {
  auto cgroup = MustCreate("destroy", {});
  ASSERT_NE(cgroup, nullptr);
  ForkedChild child(*cgroup, [](int report) {
    Report(report, "in");
    ::pause();
    return 0;
  });
  ASSERT_EQ(child.ReadBytes(2), "in");
  absl::Status destroyed = cgroup->Destroy();
  EXPECT_EQ(destroyed.code(), absl::StatusCode::kFailedPrecondition) << destroyed;
  ASSERT_TRUE(cgroup->KillAll().ok());
  EXPECT_TRUE(cgroup->Destroy().ok());
}

TEST_F(CgroupTest, SweepStaleRemovesEmptyLeftoversAndKeepsBusyOnes) {
  auto busy = MustCreate("busy", {});
  ASSERT_NE(busy, nullptr);
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    ASSERT_EQ(::mkdir(Leaf(h, "stale").c_str(), 0755), 0) << Leaf(h, "stale");
  }
  ForkedChild child(*busy, [](int report) {
    Report(report, "in");
    ::pause();
    return 0;
  });
  ASSERT_EQ(child.ReadBytes(2), "in");
  std::vector<std::string> kept = Cgroup::SweepStale(layout_, parent_);
  EXPECT_EQ(kept.size(), layout_.hierarchies().size());
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    EXPECT_NE(::access(Leaf(h, "stale").c_str(), F_OK), 0) << "not removed: " << Leaf(h, "stale");
    EXPECT_EQ(::access(Leaf(h, "busy").c_str(), F_OK), 0) << "removed: " << Leaf(h, "busy");
  }
}

TEST_F(CgroupTest, AReleasedCgroupIsLeftAloneAndCanBeAdoptedAgain) {
  auto first = MustCreate("adopt", {std::nullopt, std::nullopt, 8});
  ASSERT_NE(first, nullptr);
  ForkedChild child(*first, [](int report) {
    Report(report, "in");
    ::pause();
    return 0;
  });
  ASSERT_EQ(child.ReadBytes(2), "in");
  first->Release();
  first.reset();  // A daemon that stops and leaves its workload running.
  ASSERT_EQ(::kill(child.pid(), 0), 0);
  const CgroupHierarchy* pids = Need(CgroupController::kPids);
  ASSERT_NE(pids, nullptr);
  EXPECT_EQ(::access(Leaf(*pids, "adopt").c_str(), F_OK), 0);

  auto adopted = Cgroup::Adopt(layout_, parent_, "adopt");
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  absl::StatusOr<CgroupStats> stats = (*adopted)->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->pids_current.value_or(0), 1u);
  ASSERT_TRUE((*adopted)->KillAll().ok());
  EXPECT_TRUE((*adopted)->Destroy().ok());
  EXPECT_NE(::access(Leaf(*pids, "adopt").c_str(), F_OK), 0);

  EXPECT_EQ(Cgroup::Adopt(layout_, parent_, "never-made").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CgroupTest, DestructorKillsAndRemoves) {
  std::vector<std::string> paths;
  pid_t pid = -1;
  {
    auto cgroup = MustCreate("destroy", {});
    ASSERT_NE(cgroup, nullptr);
    paths = cgroup->paths();
    ForkedChild child(*cgroup, [](int report) {
      if (::fork() == 0) {  // A grandchild nobody waits for.
        pid_t self = ::getpid();
        Report(report, std::string(reinterpret_cast<char*>(&self), sizeof(self)));
        ::pause();
      }
      ::pause();
      return 0;
    });
    std::string raw = child.ReadBytes(sizeof(pid_t));
    ASSERT_EQ(raw.size(), sizeof(pid_t));
    std::memcpy(&pid, raw.data(), sizeof(pid));
    cgroup.reset();
    child.Wait();
  }
  for (const std::string& path : paths) EXPECT_FALSE(DirExists(path)) << path;
  std::string stat = Slurp(absl::StrCat("/proc/", pid, "/stat"));
  EXPECT_TRUE(absl::StrContains(stat, "unreadable") || absl::StrContains(stat, ") Z "))
      << stat;
}

TEST_F(CgroupTest, StatsReportMemoryAndCpu) {
  auto cgroup = MustCreate("stats", {});
  ASSERT_NE(cgroup, nullptr);
  ForkedChild child(*cgroup, [](int) {
    size_t size = 24 * kMiB;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    std::memset(p, 1, size);
    struct timespec start, now;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    do {  // Burn 200 ms of CPU.
      ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
             200000000L);
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  int status = child.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto stats = cgroup->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  if (layout_.Find(CgroupController::kMemory) != nullptr) {
    ASSERT_TRUE(stats->memory_peak_bytes.has_value());
    EXPECT_GE(*stats->memory_peak_bytes, 24 * kMiB);
    ASSERT_TRUE(stats->memory_working_set_bytes.has_value());
    EXPECT_LT(*stats->memory_working_set_bytes, 24 * kMiB);  // Freed at exit.
    EXPECT_EQ(stats->oom_kills, 0u);
  }
  ASSERT_TRUE(stats->cpu_usage_ns.has_value()) << layout_.Describe();
  EXPECT_GE(*stats->cpu_usage_ns, 150000000u);
  EXPECT_LT(*stats->cpu_usage_ns, 5000000000u);
  if (layout_.Find(CgroupController::kPids) != nullptr) {
    EXPECT_EQ(stats->pids_current, 0u);
  }
}

TEST_F(CgroupTest, ExistingLeafIsNotAdoptedAndRollbackRemovesTheOthers) {
  ASSERT_FALSE(layout_.hierarchies().empty());
  // A stale leaf in the last hierarchy: Create makes the others first, then must undo them.
  const CgroupHierarchy& last = layout_.hierarchies().back();
  std::string stale = Leaf(last, "exists");
  std::string dir = stale.substr(0, stale.rfind('/'));
  ASSERT_EQ(::mkdir((last.mount_point + "/secureos-test").c_str(), 0755) == 0 || errno == EEXIST,
            true);
  ASSERT_EQ(::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST, true);
  ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << std::strerror(errno);
  auto cgroup = Cgroup::Create(layout_, parent_, "exists", {});
  ASSERT_FALSE(cgroup.ok());
  EXPECT_EQ(cgroup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(cgroup.status().message()), HasSubstr(stale));
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    EXPECT_EQ(DirExists(Leaf(h, "exists")), &h == &last) << h.mount_point;
  }
}

TEST_F(CgroupTest, BadNamesAndLimitsAreRejectedBeforeAnythingIsMade) {
  auto bad = Cgroup::Create(layout_, "/abs/../x", "a/b", {0, 5, 0});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(bad.status().message());
  EXPECT_THAT(message, HasSubstr("cgroup_parent: \"/abs/../x\""));
  EXPECT_THAT(message, HasSubstr("name: \"a/b\" must be a single path component"));
  if (layout_.Find(CgroupController::kMemory) != nullptr) {
    EXPECT_THAT(message, HasSubstr("limits.memory_bytes: must be at least 1, got 0"));
  }
  if (layout_.Find(CgroupController::kCpu) != nullptr) {
    EXPECT_THAT(message, HasSubstr("limits.cpu_millis: must be at least 10, got 5"));
  }
  for (const char* parent : {"", "a//b", "a/./b", "a/..", "sp ace", "x\n"}) {
    auto r = Cgroup::Create(layout_, parent, "ok", {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << parent;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("cgroup_parent: ")) << parent;
  }
  for (const char* name : {"", "..", ".", "a*b"}) {
    auto r = Cgroup::Create(layout_, parent_, name, {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("name: ")) << name;
  }
  for (const CgroupHierarchy& h : layout_.hierarchies()) {
    EXPECT_FALSE(DirExists(h.mount_point + "/abs")) << h.mount_point;
  }
}

TEST_F(CgroupTest, LimitForAControllerTheHostLacksNamesTheLimit) {
  // The real pids hierarchy alone: memory and cpu limits cannot be honoured.
  const CgroupHierarchy* pids = Need(CgroupController::kPids);
  ASSERT_NE(pids, nullptr);
  std::string text = absl::StrCat("39 31 0:36 / ", pids->mount_point,
                                  " rw - cgroup cgroup rw,pids\n");
  auto only_pids = CgroupLayout::FromMountinfo(
      text, [](const std::string& p) -> absl::StatusOr<std::string> {
        return absl::NotFoundError(p);
      });
  ASSERT_TRUE(only_pids.ok()) << only_pids.status();
  auto r = Cgroup::Create(*only_pids, parent_, "empty", {64 * kMiB, 500, 4});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("limits.memory_bytes: no memory controller on this host"));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("limits.cpu_millis: no cpu controller on this host"));
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(HasSubstr("limits.pids")));
  EXPECT_FALSE(DirExists(Leaf(*pids, "empty")));
  // Without those limits the same layout works, in the pids hierarchy only.
  auto ok = Cgroup::Create(*only_pids, parent_, "empty", {std::nullopt, std::nullopt, 4});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->paths(), std::vector<std::string>{Leaf(*pids, "empty")});
  EXPECT_EQ(Slurp(Leaf(*pids, "empty") + "/pids.max"), "4");
}

}  // namespace
}  // namespace secureos::sandboxd
