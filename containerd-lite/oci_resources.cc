#include "containerd-lite/oci_resources.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "containerd-lite/oci_paths.h"

namespace secureos::ctr {
namespace {

constexpr uint64_t kDefaultCpuPeriodUs = 100000;

// An error on `field` (whose value is `value`) when it is `set`: sandboxd has no such limit.
void RefuseSet(bool set, const char* field, const std::string& value, OciReport* report) {
  if (!set) return;
  report->Error(field, absl::StrCat(value, ": not supported by containerd-lite (sandboxd sets "
                                           "memory.limit, cpu.quota/period and pids.limit)"));
}

std::string Bool(bool b) { return b ? "true" : "false"; }

void Memory(const oci::v1::Memory& mem, common::v1::ResourceLimits* limits, OciReport* report) {
  if (mem.has_limit()) {
    if (mem.limit() > 0) {
      limits->set_memory_bytes(static_cast<uint64_t>(mem.limit()));
    } else if (mem.limit() < -1) {
      report->Error("linux.resources.memory.limit",
                    absl::StrCat(mem.limit(), ": must be positive, or -1 (unlimited)"));
    }
  }
  RefuseSet(mem.has_reservation(), "linux.resources.memory.reservation",
            absl::StrCat(mem.reservation()), report);
  RefuseSet(mem.has_swap() && mem.swap() != -1, "linux.resources.memory.swap",
            absl::StrCat(mem.swap()), report);
  RefuseSet(mem.has_kernel(), "linux.resources.memory.kernel", absl::StrCat(mem.kernel()), report);
  RefuseSet(mem.has_kernel_tcp(), "linux.resources.memory.kernelTCP",
            absl::StrCat(mem.kernel_tcp()), report);
  RefuseSet(mem.has_swappiness(), "linux.resources.memory.swappiness",
            absl::StrCat(mem.swappiness()), report);
  RefuseSet(mem.has_disable_oom_killer(), "linux.resources.memory.disableOOMKiller",
            Bool(mem.disable_oom_killer()), report);
  RefuseSet(mem.has_use_hierarchy(), "linux.resources.memory.useHierarchy",
            Bool(mem.use_hierarchy()), report);
  RefuseSet(mem.has_check_before_update(), "linux.resources.memory.checkBeforeUpdate",
            Bool(mem.check_before_update()), report);
}

// cpu.quota (positive) per cpu.period -> limits->cpu_millis.
void CpuQuota(const oci::v1::Cpu& cpu, common::v1::ResourceLimits* limits, OciReport* report) {
  const uint64_t period = cpu.has_period() ? cpu.period() : kDefaultCpuPeriodUs;
  if (period == 0) {
    report->Error("linux.resources.cpu.period", "must be positive");
    return;
  }
  const unsigned __int128 millis = static_cast<unsigned __int128>(cpu.quota()) * 1000 / period;
  if (millis == 0) {
    report->Error("linux.resources.cpu.quota",
                  absl::StrCat(cpu.quota(), " per ", period, " us is less than a thousandth of a CPU"));
  } else if (millis > UINT32_MAX) {
    report->Error("linux.resources.cpu.quota", absl::StrCat(cpu.quota(), ": too large"));
  } else {
    limits->set_cpu_millis(static_cast<uint32_t>(millis));
  }
}

void Cpu(const oci::v1::Cpu& cpu, common::v1::ResourceLimits* limits, OciReport* report) {
  if (cpu.has_quota() && cpu.quota() > 0) {
    CpuQuota(cpu, limits, report);
  } else if (cpu.has_quota() && cpu.quota() < -1) {
    report->Error("linux.resources.cpu.quota",
                  absl::StrCat(cpu.quota(), ": must be positive, or -1 (unlimited)"));
  }
  RefuseSet(cpu.has_shares(), "linux.resources.cpu.shares", absl::StrCat(cpu.shares()), report);
  RefuseSet(cpu.has_burst(), "linux.resources.cpu.burst", absl::StrCat(cpu.burst()), report);
  RefuseSet(cpu.has_realtime_runtime(), "linux.resources.cpu.realtimeRuntime",
            absl::StrCat(cpu.realtime_runtime()), report);
  RefuseSet(cpu.has_realtime_period(), "linux.resources.cpu.realtimePeriod",
            absl::StrCat(cpu.realtime_period()), report);
  RefuseSet(!cpu.cpus().empty(), "linux.resources.cpu.cpus", Quote(cpu.cpus()), report);
  RefuseSet(!cpu.mems().empty(), "linux.resources.cpu.mems", Quote(cpu.mems()), report);
  RefuseSet(cpu.has_idle(), "linux.resources.cpu.idle", absl::StrCat(cpu.idle()), report);
}

void Pids(const oci::v1::Pids& p, common::v1::ResourceLimits* limits, OciReport* report) {
  if (!p.has_limit()) return;
  const int64_t pids = p.limit();
  if (pids > static_cast<int64_t>(UINT32_MAX) || pids < -1) {
    report->Error("linux.resources.pids.limit",
                  absl::StrCat(pids, ": must be 1-", UINT32_MAX, ", or 0 or -1 (unlimited)"));
  } else if (pids > 0) {
    limits->set_pids(static_cast<uint32_t>(pids));
  }
}

// Devices sandboxd's /dev has (type c): major -> minors (-1: all).
bool IsDefaultDevice(int64_t major, int64_t minor) {
  static const auto* kDevices = new std::map<int64_t, std::set<int64_t>>{
      {1, {3, 5, 7, 8, 9}},  // null, zero, full, random, urandom
      {5, {0, 2}},           // tty, ptmx
      {136, {-1}},           // pts/*
  };
  auto it = kDevices->find(major);
  if (it == kDevices->end()) return false;
  return it->second.count(-1) > 0 || (minor >= 0 && it->second.count(minor) > 0);
}

// linux.resources.devices[i] (`field`).
void Device(const oci::v1::DeviceRule& d, const std::string& field, OciReport* report) {
  const std::string type = d.type().empty() ? "a" : d.type();
  if (type != "a" && type != "c" && type != "b") {
    report->Error(field + ".type", absl::StrCat(Quote(d.type()), ": must be a, c or b"));
    return;
  }
  if (d.access().find_first_not_of("rwm") != std::string::npos) {
    report->Error(field + ".access", absl::StrCat(Quote(d.access()), ": only the letters r, w and m"));
    return;
  }
  if (!d.allow()) return;  // Nothing beyond the default devices exists in the view.
  const bool defaults_only = type == "c" && d.has_major() && d.major() >= 0 &&
                             IsDefaultDevice(d.major(), d.has_minor() ? d.minor() : -1);
  if (defaults_only) return;
  report->Error(field, absl::StrCat("allowing ", type, " ",
                                    d.has_major() ? absl::StrCat(d.major()) : std::string("*"),
                                    ":", d.has_minor() ? absl::StrCat(d.minor()) : std::string("*"),
                                    " is not supported: the container's /dev is sandboxd's "
                                    "minimal set (c 1:3, 1:5, 1:7, 1:8, 1:9, 5:0, 5:2, 136:*)"));
}

}  // namespace

void TranslateResources(const oci::v1::Resources& resources, common::v1::ResourceLimits* limits,
                        OciReport* report) {
  Memory(resources.memory(), limits, report);
  Cpu(resources.cpu(), limits, report);
  Pids(resources.pids(), limits, report);
  for (int i = 0; i < resources.devices_size(); ++i) {
    Device(resources.devices(i), Field("linux.resources.devices", i), report);
  }
}

}  // namespace secureos::ctr
