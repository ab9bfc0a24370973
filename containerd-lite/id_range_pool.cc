#include "containerd-lite/id_range_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/config_loader.h"
#include "common/fd.h"
#include "common/field_errors.h"
#include "common/status.h"
#include "google/protobuf/text_format.h"

namespace secureos::ctr {
namespace {

// user_namespaces(7): at most 340 lines in a uid_map or gid_map.
constexpr size_t kMaxMappings = 340;
// The kernel's overflow id (/proc/sys/kernel/overflowuid), nobody / nogroup.
constexpr uint32_t kOverflowId = 65534;
// The state file may hold one allocation per possible container: allow for it.
constexpr size_t kStateFileLimit = 64 << 20;

std::string Quote(absl::string_view s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

// What is wrong with where `range` ends ("" when nothing is); `what` names it ("host range").
std::string ExtentProblem(absl::string_view what, const IdRange& range) {
  if (range.end() > kIdLimit + 1) {
    return absl::StrCat(what, " ", range.start, "+", range.count, " wraps past 2^32");
  }
  if (range.end() == kIdLimit + 1) {
    return absl::StrCat(what, " ", range.ToString(), " contains ", kIdLimit,
                        ", which is -1 and never a valid id");
  }
  return "";
}

// "name:100000-165535 at /etc/subuid:1".
std::string Describe(const SubIdRange& r) {
  std::string out = absl::StrCat(r.name, ":", r.range.ToString());
  if (!r.origin.empty()) absl::StrAppend(&out, " at ", r.origin);
  return out;
}

// What makes `r` unfit for a pool that already holds `accepted` ("" when nothing does).
std::string PoolRangeProblem(const SubIdRange& r, const std::vector<SubIdRange>& accepted) {
  if (r.range.count == 0) return "count must be at least 1";
  std::string extent = ExtentProblem("range", r.range);
  if (!extent.empty()) return extent;
  for (const SubIdRange& other : accepted) {
    if (other.range.Overlaps(r.range)) {
      return absl::StrCat("range ", r.range.ToString(), " overlaps ", Describe(other));
    }
  }
  return "";
}

// A decimal 32-bit number; nullopt after adding "<where>: <field>: ..." to `errors`.
std::optional<uint32_t> ParseId(absl::string_view field, absl::string_view text,
                                const std::string& where, FieldErrors* errors) {
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  uint64_t value = 0;
  if (!digits || !absl::SimpleAtoi(text, &value) || value > kIdLimit) {
    errors->Add(where, absl::StrCat(field, ": ", Quote(text), " is not a decimal number from 0 to ",
                                    kIdLimit));
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// The syntax of one "name:start:count" line (comment and blanks already stripped).
std::optional<SubIdRange> ParseLine(absl::string_view line, const std::string& where,
                                    FieldErrors* errors) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, ':');
  if (fields.size() != 3) {
    errors->Add(where, absl::StrCat("expected name:start:count, got ", fields.size(),
                                    " field(s) in ", Quote(line)));
    return std::nullopt;
  }
  const size_t before = errors->errors().size();
  if (fields[0].empty()) errors->Add(where, "name: empty");
  const std::optional<uint32_t> start = ParseId("start", fields[1], where, errors);
  const std::optional<uint32_t> count = ParseId("count", fields[2], where, errors);
  if (errors->errors().size() != before) return std::nullopt;
  return SubIdRange{std::string(fields[0]), IdRange{*start, *count}, where};
}

v1::IdAllocation ToProto(const std::string& container, const IdRangePool::Allocation& a) {
  v1::IdAllocation out;
  out.set_container(container);
  for (const IdMapping& m : a.mappings) {
    v1::IdAllocationMapping* p = out.add_mappings();
    p->set_container_start(m.container_start);
    p->set_host_start(m.host_start);
    p->set_count(m.count);
  }
  out.set_outside_pool_allowed(a.outside_pool_allowed);
  return out;
}

IdRangePool::Allocation FromProto(const v1::IdAllocation& a) {
  IdRangePool::Allocation out;
  for (const v1::IdAllocationMapping& m : a.mappings()) {
    out.mappings.push_back(IdMapping{m.container_start(), m.host_start(), m.count()});
  }
  out.outside_pool_allowed = a.outside_pool_allowed();
  return out;
}

// "100000-165535, 300000-300999".
std::string HostRanges(const std::vector<IdMapping>& mappings) {
  return absl::StrJoin(mappings, ", ", [](std::string* out, const IdMapping& m) {
    out->append(m.host_range().ToString());
  });
}

// Whether the count and both ends of `m` are valid; otherwise adds why to `errors`.
bool CheckExtent(const std::string& field, const IdMapping& m, FieldErrors* errors) {
  if (m.count == 0) {
    errors->Add(field + ".count", "must be at least 1");
    return false;
  }
  bool ok = true;
  for (const std::string& problem : {ExtentProblem("container range", m.container_range()),
                                     ExtentProblem("host range", m.host_range())}) {
    if (problem.empty()) continue;
    errors->Add(field, problem);
    ok = false;
  }
  return ok;
}

}  // namespace

bool IdRange::Overlaps(const IdRange& other) const {
  return count != 0 && other.count != 0 && start < other.end() && other.start < end();
}

std::string IdRange::ToString() const {
  if (count == 0) return absl::StrCat(start, "+0");
  return absl::StrCat(start, "-", end() - 1);
}

absl::string_view IdKindName(IdKind kind) { return kind == IdKind::kUid ? "uid" : "gid"; }

absl::StatusOr<std::vector<SubIdRange>> ParseSubIdLines(absl::string_view text,
                                                        absl::string_view source_name) {
  std::vector<SubIdRange> ranges;
  FieldErrors errors;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const std::string where = absl::StrCat(source_name, ":", ++number);
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::optional<SubIdRange> range = ParseLine(line, where, &errors);
    if (!range.has_value()) continue;
    const std::string problem = PoolRangeProblem(*range, ranges);
    if (!problem.empty()) {
      errors.Add(where, problem);
      continue;
    }
    ranges.push_back(std::move(*range));
  }
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  return ranges;
}

IdRangePool::IdRangePool(IdKind kind, std::vector<SubIdRange> ranges,
                         std::vector<ForbiddenId> forbidden, uint32_t range_size)
    : kind_(kind),
      ranges_(std::move(ranges)),
      forbidden_(std::move(forbidden)),
      range_size_(range_size) {}

absl::StatusOr<std::unique_ptr<IdRangePool>> IdRangePool::Create(IdRangePoolOptions options) {
  FieldErrors errors;
  if (options.range_size == 0) errors.Add("range_size", "must be at least 1");
  std::vector<SubIdRange> ranges;
  for (size_t i = 0; i < options.ranges.size(); ++i) {
    const std::string problem = PoolRangeProblem(options.ranges[i], ranges);
    if (problem.empty()) {
      ranges.push_back(options.ranges[i]);
    } else {
      errors.Add(absl::StrCat("ranges[", i, "]"), problem);
    }
  }
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  std::sort(ranges.begin(), ranges.end(), [](const SubIdRange& a, const SubIdRange& b) {
    return a.range.start < b.range.start;
  });

  const bool uid = options.kind == IdKind::kUid;
  std::vector<ForbiddenId> forbidden = {{0, "root"}, {kOverflowId, uid ? "nobody" : "nogroup"}};
  forbidden.insert(forbidden.end(), options.forbidden.begin(), options.forbidden.end());
  std::stable_sort(forbidden.begin(), forbidden.end(),
                   [](const ForbiddenId& a, const ForbiddenId& b) { return a.id < b.id; });
  forbidden.erase(std::unique(forbidden.begin(), forbidden.end(),
                              [](const ForbiddenId& a, const ForbiddenId& b) { return a.id == b.id; }),
                  forbidden.end());

  return std::unique_ptr<IdRangePool>(
      new IdRangePool(options.kind, std::move(ranges), std::move(forbidden), options.range_size));
}

absl::StatusOr<std::unique_ptr<IdRangePool>> IdRangePool::Load(const std::string& path,
                                                               IdRangePoolOptions options) {
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<IdRangePool> pool, Create(std::move(options)));
  absl::StatusOr<std::string> text = ReadFile(path, kStateFileLimit);
  if (absl::IsNotFound(text.status())) return pool;
  if (!text.ok()) return text.status();
  v1::IdRangesState state;
  FieldLocations locations;
  SECUREOS_RETURN_IF_ERROR(ParseConfig(path, *text, &state, &locations));
  SECUREOS_RETURN_IF_ERROR(pool->RestoreFrom(state, path, &locations));
  return pool;
}

absl::StatusOr<IdMapping> IdRangePool::Allocate(const std::string& container_id) {
  if (container_id.empty()) return absl::InvalidArgumentError("container_id: required");
  const absl::string_view kind = IdKindName(kind_);
  absl::MutexLock lock(&mu_);
  auto it = allocations_.find(container_id);
  if (it != allocations_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("container ", Quote(container_id),
                                                 " already holds host ", kind, "s ",
                                                 HostRanges(it->second.mappings)));
  }
  const std::optional<uint32_t> start = FirstFit(allocations_);
  if (!start.has_value()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        PoolDescription(), " has no free range of ", range_size_, " ", kind,
        "s left for container ", Quote(container_id), " (", allocations_.size(),
        " containers hold ", kind, "s)"));
  }
  const IdMapping mapping{0, *start, range_size_};
  allocations_[container_id] = Allocation{{mapping}, false};
  return mapping;
}

absl::Status IdRangePool::Reserve(const std::string& container_id,
                                  const std::vector<IdMapping>& mappings,
                                  const ReserveOptions& options) {
  if (container_id.empty()) return absl::InvalidArgumentError("container_id: required");
  const absl::string_view kind = IdKindName(kind_);
  const std::string field =
      options.field.empty() ? absl::StrCat(kind, "_mappings") : options.field;
  absl::MutexLock lock(&mu_);
  auto it = allocations_.find(container_id);
  if (it != allocations_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("container ", Quote(container_id),
                                                 " already holds host ", kind, "s ",
                                                 HostRanges(it->second.mappings)));
  }
  FieldErrors errors;
  Validate(field, mappings, options.allow_outside_pool, allocations_, &errors);
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  allocations_[container_id] = Allocation{mappings, options.allow_outside_pool};
  return absl::OkStatus();
}

absl::Status IdRangePool::Release(const std::string& container_id) {
  absl::MutexLock lock(&mu_);
  if (allocations_.erase(container_id) == 0) {
    return absl::NotFoundError(absl::StrCat("container ", Quote(container_id), " holds no host ",
                                            IdKindName(kind_), "s"));
  }
  return absl::OkStatus();
}

std::optional<IdRangePool::Allocation> IdRangePool::Find(const std::string& container_id) const {
  absl::MutexLock lock(&mu_);
  auto it = allocations_.find(container_id);
  if (it == allocations_.end()) return std::nullopt;
  return it->second;
}

v1::IdRangesState IdRangePool::Snapshot() const {
  v1::IdRangesState state;
  state.set_pool(std::string(IdKindName(kind_)));
  absl::MutexLock lock(&mu_);
  for (const auto& [container, allocation] : allocations_) {
    *state.add_allocations() = ToProto(container, allocation);
  }
  return state;
}

absl::Status IdRangePool::Restore(const v1::IdRangesState& state) {
  return RestoreFrom(state, "", nullptr);
}

absl::Status IdRangePool::RestoreFrom(const v1::IdRangesState& state, absl::string_view file,
                                      const FieldLocations* locations) {
  FieldErrors errors;
  const absl::string_view kind = IdKindName(kind_);
  if (state.pool() != kind) {
    errors.Add("pool", absl::StrCat("the state is of pool ", Quote(state.pool()), ", not ",
                                    Quote(kind)));
  }
  Allocations next;
  for (int i = 0; i < state.allocations_size(); ++i) {
    const v1::IdAllocation& a = state.allocations(i);
    const std::string field = absl::StrCat("allocations[", i, "]");
    if (a.container().empty()) {
      errors.Add(field + ".container", "required");
      continue;
    }
    if (next.count(a.container()) != 0) {
      errors.Add(field + ".container", absl::StrCat(Quote(a.container()), " appears twice"));
      continue;
    }
    Allocation allocation = FromProto(a);
    Validate(field + ".mappings", allocation.mappings, allocation.outside_pool_allowed, next,
             &errors);
    next.emplace(a.container(), std::move(allocation));
  }
  SECUREOS_RETURN_IF_ERROR(file.empty() ? errors.ToStatus()
                                        : errors.ToConfigStatus(file, locations));
  absl::MutexLock lock(&mu_);
  allocations_ = std::move(next);
  return absl::OkStatus();
}

absl::Status IdRangePool::Save(const std::string& path, Durability durability) const {
  absl::MutexLock order(&save_mu_);
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(Snapshot(), &text)) {
    return absl::InternalError(absl::StrCat(path, ": cannot print the ", IdKindName(kind_),
                                            " range state"));
  }
  return WriteFileAtomically(
      path, absl::StrCat("# containerd-lite ", IdKindName(kind_),
                         " ranges; written by containerd-lite, do not edit while it runs.\n",
                         text),
      0600, durability);
}

void IdRangePool::Validate(absl::string_view field, const std::vector<IdMapping>& mappings,
                           bool allow_outside_pool, const Allocations& others,
                           FieldErrors* errors) const {
  if (mappings.empty()) {
    errors->Add(field, "at least one mapping is required");
    return;
  }
  if (mappings.size() > kMaxMappings) {
    errors->Add(field, absl::StrCat(mappings.size(), " mappings, more than the kernel's ",
                                    kMaxMappings));
  }
  std::vector<size_t> valid;  // Indexes of the mappings whose extent is valid.
  for (size_t i = 0; i < mappings.size(); ++i) {
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (!CheckExtent(at, mappings[i], errors)) continue;
    for (size_t j : valid) {
      const std::string other = absl::StrCat(field, "[", j, "]");
      if (mappings[i].container_range().Overlaps(mappings[j].container_range())) {
        errors->Add(at, absl::StrCat("container range ", mappings[i].container_range().ToString(),
                                     " overlaps ", other, " (",
                                     mappings[j].container_range().ToString(), ")"));
      }
      if (mappings[i].host_range().Overlaps(mappings[j].host_range())) {
        errors->Add(at, absl::StrCat("host range ", mappings[i].host_range().ToString(),
                                     " overlaps ", other, " (",
                                     mappings[j].host_range().ToString(), ")"));
      }
    }
    valid.push_back(i);
    ValidateHostRange(at, mappings[i].host_range(), allow_outside_pool, others, errors);
  }
}

void IdRangePool::ValidateHostRange(const std::string& field, const IdRange& host,
                                    bool allow_outside_pool, const Allocations& others,
                                    FieldErrors* errors) const {
  const absl::string_view kind = IdKindName(kind_);
  std::vector<std::string> hits;
  for (const ForbiddenId& f : forbidden_) {
    if (host.Contains(f.id)) hits.push_back(absl::StrCat(f.id, " (", f.why, ")"));
  }
  if (!hits.empty()) {
    errors->Add(field, absl::StrCat("host range ", host.ToString(), " contains forbidden host ",
                                    kind, hits.size() == 1 ? " " : "s ",
                                    absl::StrJoin(hits, ", ")));
  }
  if (!allow_outside_pool && !InPool(host)) {
    errors->Add(field, absl::StrCat("host range ", host.ToString(), " is not inside the ",
                                    PoolDescription()));
  }
  for (const auto& [container, allocation] : others) {
    for (const IdMapping& m : allocation.mappings) {
      if (!host.Overlaps(m.host_range())) continue;
      errors->Add(field, absl::StrCat("host range ", host.ToString(), " overlaps container ",
                                      Quote(container), " (", m.host_range().ToString(), ")"));
    }
  }
}

bool IdRangePool::InPool(const IdRange& range) const {
  uint64_t covered = range.start;  // Every id of `range` below this is in the pool.
  for (const SubIdRange& r : ranges_) {
    if (covered >= range.end()) break;
    if (r.range.start > covered) break;  // A gap: ranges_ is by start.
    covered = std::max(covered, r.range.end());
  }
  return covered >= range.end();
}

std::optional<uint32_t> IdRangePool::FirstFit(const Allocations& allocations) const {
  std::vector<IdRange> taken;
  for (const ForbiddenId& f : forbidden_) taken.push_back(IdRange{f.id, 1});
  for (const auto& entry : allocations) {
    for (const IdMapping& m : entry.second.mappings) taken.push_back(m.host_range());
  }
  std::sort(taken.begin(), taken.end(),
            [](const IdRange& a, const IdRange& b) { return a.start < b.start; });
  for (const SubIdRange& r : ranges_) {
    uint64_t candidate = r.range.start;
    for (const IdRange& t : taken) {
      if (candidate + range_size_ <= t.start) break;  // Fits before t, and all that follow.
      candidate = std::max(candidate, t.end());
    }
    if (candidate + range_size_ <= r.range.end()) return static_cast<uint32_t>(candidate);
  }
  return std::nullopt;
}

std::string IdRangePool::PoolDescription() const {
  if (ranges_.empty()) return absl::StrCat(IdKindName(kind_), " pool (empty)");
  return absl::StrCat(IdKindName(kind_), " pool (",
                      absl::StrJoin(ranges_, ", ",
                                    [](std::string* out, const SubIdRange& r) {
                                      out->append(Describe(r));
                                    }),
                      ")");
}

}  // namespace secureos::ctr
