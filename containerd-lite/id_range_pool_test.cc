#include "containerd-lite/id_range_pool.h"

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::ctr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint32_t kSize = 65536;

std::vector<SubIdRange> Lines(absl::string_view text) {
  absl::StatusOr<std::vector<SubIdRange>> ranges = ParseSubIdLines(text, "subuid");
  EXPECT_TRUE(ranges.ok()) << ranges.status();
  return ranges.ok() ? *ranges : std::vector<SubIdRange>{};
}

// A uid pool over `text` with capd (998) and svcd (100005) forbidden as daemon uids.
std::unique_ptr<IdRangePool> Pool(absl::string_view text, uint32_t size = kSize) {
  IdRangePoolOptions options;
  options.ranges = Lines(text);
  options.forbidden = {{998, "capd"}, {100005, "svcd"}};
  options.range_size = size;
  absl::StatusOr<std::unique_ptr<IdRangePool>> pool = IdRangePool::Create(std::move(options));
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? std::move(*pool) : nullptr;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

std::string StatePath(absl::string_view name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_", name);
}

// --- IdRange -------------------------------------------------------------------------

TEST(IdRange, EndIsExclusiveAndComputedIn64Bits) {
  EXPECT_EQ((IdRange{100000, 65536}).end(), 165536u);
  EXPECT_EQ((IdRange{4294967295u, 2}).end(), 4294967297ull);
}

TEST(IdRange, ContainsAndOverlaps) {
  const IdRange r{100, 10};
  EXPECT_TRUE(r.Contains(100));
  EXPECT_TRUE(r.Contains(109));
  EXPECT_FALSE(r.Contains(110));
  EXPECT_FALSE(r.Contains(99));
  EXPECT_TRUE(r.Overlaps(IdRange{109, 5}));
  EXPECT_TRUE(r.Overlaps(IdRange{0, 101}));
  EXPECT_FALSE(r.Overlaps(IdRange{110, 5}));
  EXPECT_FALSE(r.Overlaps(IdRange{90, 10}));
  EXPECT_FALSE(r.Overlaps(IdRange{105, 0})) << "an empty range shares no id";
}

TEST(IdRange, FormatsInclusiveEnds) {
  EXPECT_EQ((IdRange{100000, 65536}).ToString(), "100000-165535");
  EXPECT_EQ((IdRange{7, 1}).ToString(), "7-7");
  EXPECT_EQ((IdRange{7, 0}).ToString(), "7+0");
}

// --- ParseSubIdLines -----------------------------------------------------------------

TEST(ParseSubIdLines, ReadsLinesCommentsAndBlanks) {
  absl::StatusOr<std::vector<SubIdRange>> ranges = ParseSubIdLines(
      "# containerd-lite's pool\n"
      "\n"
      "containerd:100000:65536\n"
      "  alice:300000:1000   # a second range\r\n"
      "alice:200000:5\n",
      "/etc/subuid");
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  ASSERT_EQ(ranges->size(), 3u);
  EXPECT_EQ((*ranges)[0].name, "containerd");
  EXPECT_EQ((*ranges)[0].range, (IdRange{100000, 65536}));
  EXPECT_EQ((*ranges)[0].origin, "/etc/subuid:3");
  EXPECT_EQ((*ranges)[1].name, "alice");
  EXPECT_EQ((*ranges)[1].range, (IdRange{300000, 1000}));
  EXPECT_EQ((*ranges)[1].origin, "/etc/subuid:4");
  EXPECT_EQ((*ranges)[2].range, (IdRange{200000, 5}));
}

TEST(ParseSubIdLines, EmptyTextIsAnEmptyPool) {
  absl::StatusOr<std::vector<SubIdRange>> ranges = ParseSubIdLines("", "/etc/subuid");
  ASSERT_TRUE(ranges.ok());
  EXPECT_TRUE(ranges->empty());
}

struct BadLine {
  std::string line;
  std::string error;
};

class ParseSubIdLinesBad : public ::testing::TestWithParam<BadLine> {};

TEST_P(ParseSubIdLinesBad, NamesTheLine) {
  absl::StatusOr<std::vector<SubIdRange>> ranges =
      ParseSubIdLines("# pool\nok:100000:65536\n" + GetParam().line + "\n", "/etc/subuid");
  ASSERT_EQ(ranges.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(ranges.status()), "/etc/subuid:3: " + GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseSubIdLinesBad,
    ::testing::Values(
        BadLine{"alice:200000", "expected name:start:count, got 2 field(s) in \"alice:200000\""},
        BadLine{"alice:1:2:3", "expected name:start:count, got 4 field(s) in \"alice:1:2:3\""},
        BadLine{":200000:10", "name: empty"},
        BadLine{"alice:2e5:10", "start: \"2e5\" is not a decimal number from 0 to 4294967295"},
        BadLine{"alice:-1:10", "start: \"-1\" is not a decimal number from 0 to 4294967295"},
        BadLine{"alice:200000: 10", "count: \" 10\" is not a decimal number from 0 to 4294967295"},
        BadLine{"alice:4294967296:1",
                "start: \"4294967296\" is not a decimal number from 0 to 4294967295"},
        BadLine{"alice:200000:0", "count must be at least 1"},
        BadLine{"alice:4294967200:200", "range 4294967200+200 wraps past 2^32"},
        BadLine{"alice:4294967200:96",
                "range 4294967200-4294967295 contains 4294967295, which is -1 and never a valid "
                "id"},
        BadLine{"alice:165535:10",
                "range 165535-165544 overlaps ok:100000-165535 at /etc/subuid:2"}));

TEST(ParseSubIdLines, ReportsEveryBadLineAtOnce) {
  absl::StatusOr<std::vector<SubIdRange>> ranges =
      ParseSubIdLines("a:x:y\nb:100:0\nc:100:10\nd:105:10\n", "pool");
  ASSERT_FALSE(ranges.ok());
  EXPECT_EQ(Message(ranges.status()),
            "pool:1: start: \"x\" is not a decimal number from 0 to 4294967295; "
            "pool:1: count: \"y\" is not a decimal number from 0 to 4294967295; "
            "pool:2: count must be at least 1; "
            "pool:4: range 105-114 overlaps c:100-109 at pool:3");
}

// --- Create --------------------------------------------------------------------------

TEST(IdRangePoolCreate, RefusesBadOptions) {
  IdRangePoolOptions options;
  options.range_size = 0;
  options.ranges = {{"a", {1000, 100}, ""}, {"b", {1050, 100}, "f:2"}, {"c", {5, 0}, ""}};
  absl::StatusOr<std::unique_ptr<IdRangePool>> pool = IdRangePool::Create(options);
  ASSERT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(pool.status()),
            "range_size: must be at least 1; ranges[1]: range 1050-1149 overlaps a:1000-1099; "
            "ranges[2]: count must be at least 1");
}

// --- Allocate ------------------------------------------------------------------------

TEST(IdRangePoolAllocate, GivesFirstFitRangesMappedFromZero) {
  auto pool = Pool("p:200000:262144\n");
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<IdMapping> a = pool->Allocate("a");
  absl::StatusOr<IdMapping> b = pool->Allocate("b");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*a, (IdMapping{0, 200000, kSize}));
  EXPECT_EQ(*b, (IdMapping{0, 265536, kSize}));
  std::optional<IdRangePool::Allocation> found = pool->Find("b");
  ASSERT_TRUE(found.has_value());
  EXPECT_THAT(found->mappings, ElementsAre(IdMapping{0, 265536, kSize}));
  EXPECT_FALSE(found->outside_pool_allowed);
  EXPECT_FALSE(pool->Find("c").has_value());
}

TEST(IdRangePoolAllocate, SkipsForbiddenIds) {
  // Holds 0 (root), 998 (capd), 65534 (nobody) and 100005 (svcd).
  auto pool = Pool("low:0:300000\n", 1000);
  ASSERT_NE(pool, nullptr);
  std::vector<IdRange> got;
  for (int i = 0; i < 70; ++i) {
    absl::StatusOr<IdMapping> m = pool->Allocate(absl::StrCat("c", i));
    ASSERT_TRUE(m.ok()) << m.status();
    got.push_back(m->host_range());
  }
  EXPECT_EQ(got[0], (IdRange{999, 1000})) << "1-998 contains capd's 998";
  EXPECT_EQ(got[1], (IdRange{1999, 1000}));
  for (const IdRange& r : got) {
    for (uint32_t id : {0u, 998u, 65534u, 100005u}) EXPECT_FALSE(r.Contains(id)) << r.ToString();
  }
  EXPECT_EQ(got[63], (IdRange{63999, 1000}));
  EXPECT_EQ(got[64], (IdRange{65535, 1000})) << "64999-65998 would contain 65534";
}

TEST(IdRangePoolAllocate, SkipsExistingRangesAndMovesToTheNextPoolLine) {
  auto pool = Pool("a:100000:131072\nb:400000:65536\n");
  ASSERT_NE(pool, nullptr);
  // Holds 131072-180000: neither 100000-165535 nor 165536-231071 fits around it.
  ASSERT_TRUE(pool->Reserve("explicit", {{0, 131072, 48929}}).ok());
  absl::StatusOr<IdMapping> m = pool->Allocate("auto");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->host_range(), (IdRange{400000, kSize}));
}

TEST(IdRangePoolAllocate, FailsWhenFullNamingThePool) {
  auto pool = Pool("containerd:200000:131072\n");
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Allocate("a").ok());
  ASSERT_TRUE(pool->Allocate("b").ok());
  absl::StatusOr<IdMapping> c = pool->Allocate("c");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(c.status()),
            "uid pool (containerd:200000-331071 at subuid:1) has no free range of 65536 uids "
            "left for container \"c\" (2 containers hold uids)");
}

TEST(IdRangePoolAllocate, ASecondAllocationForAContainerIsRefused) {
  auto pool = Pool("p:200000:262144\n");
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Allocate("web").ok());
  absl::StatusOr<IdMapping> again = pool->Allocate("web");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Message(again.status()), "container \"web\" already holds host uids 200000-265535");
  EXPECT_EQ(pool->Reserve("web", {{0, 300000, 10}}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(pool->Allocate("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IdRangePoolRelease, MakesRoom) {
  auto pool = Pool("p:200000:131072\n");
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Allocate("a").ok());
  ASSERT_TRUE(pool->Allocate("b").ok());
  ASSERT_FALSE(pool->Allocate("c").ok());
  ASSERT_TRUE(pool->Release("a").ok());
  EXPECT_FALSE(pool->Find("a").has_value());
  absl::StatusOr<IdMapping> c = pool->Allocate("c");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host_start, 200000u) << "a's range is free again";
  absl::Status gone = pool->Release("a");
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(gone), "container \"a\" holds no host uids");
}

// --- Reserve: every validation case --------------------------------------------------

class IdRangePoolReserve : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = Pool("containerd:100000:1000000\n");
    ASSERT_NE(pool_, nullptr);
  }

  // Reserve for "new" that must fail with INVALID_ARGUMENT and reserve nothing.
  std::string Refused(const std::vector<IdMapping>& mappings, ReserveOptions options = {}) {
    absl::Status s = pool_->Reserve("new", mappings, options);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_FALSE(pool_->Find("new").has_value()) << "nothing is reserved on error";
    return Message(s);
  }

  std::unique_ptr<IdRangePool> pool_;
};

TEST_F(IdRangePoolReserve, AcceptsValidMappings) {
  const std::vector<IdMapping> mappings = {{0, 200000, 1}, {1, 300000, 65535}};
  ASSERT_TRUE(pool_->Reserve("web", mappings).ok());
  std::optional<IdRangePool::Allocation> found = pool_->Find("web");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->mappings, mappings);
}

TEST_F(IdRangePoolReserve, CountZero) {
  EXPECT_EQ(Refused({{0, 200000, 0}}), "uid_mappings[0].count: must be at least 1");
}

TEST_F(IdRangePoolReserve, HostRangeWrappingPast2To32) {
  EXPECT_EQ(Refused({{0, 4294967200u, 200}}),
            "uid_mappings[0]: host range 4294967200+200 wraps past 2^32");
}

TEST_F(IdRangePoolReserve, ContainerRangeWrappingPast2To32) {
  EXPECT_EQ(Refused({{4294967295u, 200000, 2}}),
            "uid_mappings[0]: container range 4294967295+2 wraps past 2^32");
}

TEST_F(IdRangePoolReserve, RangeReachingMinusOne) {
  EXPECT_THAT(Refused({{0, 4294967286u, 10}}, {true, ""}),
              HasSubstr("uid_mappings[0]: host range 4294967286-4294967295 contains 4294967295"));
}

TEST_F(IdRangePoolReserve, ContainsHostUid0) {
  EXPECT_EQ(Refused({{0, 0, 10}}, {true, ""}),
            "uid_mappings[0]: host range 0-9 contains forbidden host uid 0 (root)");
}

TEST_F(IdRangePoolReserve, ContainsHostUid65534) {
  EXPECT_EQ(Refused({{0, 65000, 1000}}, {true, ""}),
            "uid_mappings[0]: host range 65000-65999 contains forbidden host uid 65534 (nobody)");
}

TEST_F(IdRangePoolReserve, ContainsADaemonUid) {
  EXPECT_EQ(Refused({{0, 100000, 65536}}),
            "uid_mappings[0]: host range 100000-165535 contains forbidden host uid 100005 (svcd)");
  EXPECT_EQ(Refused({{0, 500, 1000}}, {true, ""}),
            "uid_mappings[0]: host range 500-1499 contains forbidden host uid 998 (capd)");
}

TEST_F(IdRangePoolReserve, NamesEveryForbiddenIdInARange) {
  EXPECT_EQ(Refused({{0, 0, 70000}}, {true, ""}),
            "uid_mappings[0]: host range 0-69999 contains forbidden host uids 0 (root), "
            "998 (capd), 65534 (nobody)");
}

TEST_F(IdRangePoolReserve, OverlapWithAnotherContainerNamesIt) {
  ASSERT_TRUE(pool_->Reserve("web", {{0, 200000, 65536}}).ok());
  EXPECT_EQ(Refused({{0, 500000, 10}, {10, 200000, 65536}}),
            "uid_mappings[1]: host range 200000-265535 overlaps container \"web\" "
            "(200000-265535)");
  EXPECT_EQ(Refused({{0, 265535, 10}}),
            "uid_mappings[0]: host range 265535-265544 overlaps container \"web\" "
            "(200000-265535)");
}

TEST_F(IdRangePoolReserve, OverlapWithAnAllocatedRange) {
  absl::StatusOr<IdMapping> a = pool_->Allocate("auto");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(Refused({{0, a->host_start + 10, 5}}), HasSubstr("overlaps container \"auto\""));
}

TEST_F(IdRangePoolReserve, HostRangesOfOneRequestMustNotOverlap) {
  EXPECT_EQ(Refused({{0, 200000, 100}, {100, 200050, 100}}),
            "uid_mappings[1]: host range 200050-200149 overlaps uid_mappings[0] (200000-200099)");
}

TEST_F(IdRangePoolReserve, ContainerRangesOfOneRequestMustNotOverlap) {
  EXPECT_EQ(Refused({{0, 200000, 100}, {99, 300000, 100}}),
            "uid_mappings[1]: container range 99-198 overlaps uid_mappings[0] (0-99)");
}

TEST_F(IdRangePoolReserve, OutsideThePoolNeedsAllowOutsidePool) {
  EXPECT_EQ(Refused({{0, 2000000, 10}}),
            "uid_mappings[0]: host range 2000000-2000009 is not inside the uid pool "
            "(containerd:100000-1099999 at subuid:1)");
  EXPECT_THAT(Refused({{0, 1099990, 20}}), HasSubstr("is not inside the uid pool"))
      << "partly outside";
  ReserveOptions allow;
  allow.allow_outside_pool = true;
  ASSERT_TRUE(pool_->Reserve("host", {{0, 2000000, 10}}, allow).ok());
  EXPECT_TRUE(pool_->Find("host")->outside_pool_allowed);
}

TEST_F(IdRangePoolReserve, ARangeMaySpanAdjacentPoolLines) {
  auto pool = Pool("a:200000:1000\nb:201000:1000\n");
  ASSERT_NE(pool, nullptr);
  EXPECT_TRUE(pool->Reserve("web", {{0, 200500, 1000}}).ok());
}

TEST_F(IdRangePoolReserve, EmptyAndTooManyMappings) {
  EXPECT_EQ(Refused({}), "uid_mappings: at least one mapping is required");
  std::vector<IdMapping> many;
  for (uint32_t i = 0; i < 341; ++i) many.push_back({i, 200000 + i, 1});
  EXPECT_EQ(Refused(many), "uid_mappings: 341 mappings, more than the kernel's 340");
}

TEST_F(IdRangePoolReserve, ReportsSeveralErrorsAtOnce) {
  ASSERT_TRUE(pool_->Reserve("web", {{0, 200000, 65536}}).ok());
  ReserveOptions options;
  options.field = "linux.uidMappings";
  EXPECT_EQ(Refused({{0, 200000, 10},
                     {10, 300000, 0},
                     {20, 4294967295u, 5},
                     {5, 100000, 10},
                     {100, 7, 1}},
                    options),
            "linux.uidMappings[0]: host range 200000-200009 overlaps container \"web\" "
            "(200000-265535); "
            "linux.uidMappings[1].count: must be at least 1; "
            "linux.uidMappings[2]: host range 4294967295+5 wraps past 2^32; "
            "linux.uidMappings[3]: container range 5-14 overlaps linux.uidMappings[0] (0-9); "
            "linux.uidMappings[3]: host range 100000-100009 contains forbidden host uid 100005 "
            "(svcd); "
            "linux.uidMappings[4]: host range 7-7 is not inside the uid pool "
            "(containerd:100000-1099999 at subuid:1)");
  // The refused request left no trace: its free ranges can still be had.
  EXPECT_TRUE(pool_->Reserve("other", {{0, 300000, 10}}).ok());
}

TEST(IdRangePoolGid, SpeaksOfGids) {
  IdRangePoolOptions options;
  options.kind = IdKind::kGid;
  options.ranges = Lines("g:100000:65536\n");
  absl::StatusOr<std::unique_ptr<IdRangePool>> pool = IdRangePool::Create(options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ReserveOptions allow;
  allow.allow_outside_pool = true;
  EXPECT_EQ(Message((*pool)->Reserve("c", {{0, 65534, 1}}, allow)),
            "gid_mappings[0]: host range 65534-65534 contains forbidden host gid 65534 (nogroup)");
  EXPECT_EQ((*pool)->Snapshot().pool(), "gid");
}

// --- Persistence ---------------------------------------------------------------------

TEST(IdRangePoolPersistence, SaveAndLoadKeepAllocations) {
  const std::string path = StatePath("uid_ranges.textproto");
  const char* kLines = "containerd:100000:1000000\n";
  {
    auto pool = Pool(kLines);
    ASSERT_NE(pool, nullptr);
    ASSERT_TRUE(pool->Allocate("a").ok());
    ASSERT_TRUE(pool->Reserve("b", {{0, 900000, 10}, {10, 950000, 5}}).ok());
    ReserveOptions allow;
    allow.allow_outside_pool = true;
    ASSERT_TRUE(pool->Reserve("host", {{0, 5000000, 100}}, allow).ok());
    ASSERT_TRUE(pool->Save(path).ok());
  }
  IdRangePoolOptions options;
  options.ranges = Lines(kLines);
  options.forbidden = {{998, "capd"}, {100005, "svcd"}};
  absl::StatusOr<std::unique_ptr<IdRangePool>> loaded = IdRangePool::Load(path, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  IdRangePool& pool = **loaded;

  std::optional<IdRangePool::Allocation> a = pool.Find("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_THAT(a->mappings, ElementsAre(IdMapping{0, 100006, kSize}));
  std::optional<IdRangePool::Allocation> b = pool.Find("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_THAT(b->mappings, ElementsAre(IdMapping{0, 900000, 10}, IdMapping{10, 950000, 5}));
  ASSERT_TRUE(pool.Find("host").has_value());
  EXPECT_TRUE(pool.Find("host")->outside_pool_allowed);

  // The reloaded pool refuses overlaps with what it restored, and allocates around it.
  EXPECT_EQ(Message(pool.Reserve("c", {{0, 900005, 1}})),
            "uid_mappings[0]: host range 900005-900005 overlaps container \"b\" (900000-900009)");
  EXPECT_EQ(pool.Allocate("a").status().code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<IdMapping> d = pool.Allocate("d");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->host_start, 100006u + kSize);
}

TEST(IdRangePoolPersistence, ReleaseSurvivesARestart) {
  const std::string path = StatePath("uid_ranges.textproto");
  {
    auto pool = Pool("p:100006:65536\n");
    ASSERT_NE(pool, nullptr);
    ASSERT_TRUE(pool->Allocate("a").ok());
    ASSERT_TRUE(pool->Save(path).ok());
    ASSERT_TRUE(pool->Release("a").ok());
    ASSERT_TRUE(pool->Save(path).ok());
  }
  IdRangePoolOptions options;
  options.ranges = Lines("p:100006:65536\n");
  absl::StatusOr<std::unique_ptr<IdRangePool>> loaded = IdRangePool::Load(path, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE((*loaded)->Find("a").has_value());
  EXPECT_TRUE((*loaded)->Allocate("b").ok()) << "the only range is free again";
}

TEST(IdRangePoolPersistence, AMissingFileIsAnEmptyPool) {
  IdRangePoolOptions options;
  options.ranges = Lines("p:100000:65536\n");
  absl::StatusOr<std::unique_ptr<IdRangePool>> loaded =
      IdRangePool::Load(StatePath("never_written"), options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Snapshot().allocations_size(), 0);
}

TEST(IdRangePoolPersistence, LoadRechecksTheRulesNamingFileAndLine) {
  const std::string path = StatePath("uid_ranges.textproto");
  {
    auto pool = Pool("containerd:100000:1000000\n");
    ASSERT_NE(pool, nullptr);
    ASSERT_TRUE(pool->Reserve("a", {{0, 200000, 10}}).ok());
    ASSERT_TRUE(pool->Reserve("b", {{0, 300000, 10}}).ok());
    ASSERT_TRUE(pool->Save(path).ok());
  }
  // A daemon now runs as uid 300005, inside b's range.
  IdRangePoolOptions options;
  options.ranges = Lines("containerd:100000:1000000\n");
  options.forbidden = {{300005, "monitord"}};
  absl::StatusOr<std::unique_ptr<IdRangePool>> loaded = IdRangePool::Load(path, options);
  ASSERT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(loaded.status()),
              testing::MatchesRegex(".*uid_ranges.textproto:[0-9]+: allocations\\[1\\]\\.mappings\\[0\\]: "
                                    "host range 300000-300009 contains forbidden host uid 300005 "
                                    "\\(monitord\\)"));
}

TEST(IdRangePoolPersistence, RestoreRefusesBadStatesAndChangesNothing) {
  auto pool = Pool("containerd:100000:1000000\n");
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->Reserve("keep", {{0, 500000, 10}}).ok());

  v1::IdRangesState state;
  state.set_pool("gid");
  v1::IdAllocation* a = state.add_allocations();
  a->set_container("a");
  v1::IdAllocationMapping* m = a->add_mappings();
  m->set_host_start(200000);
  m->set_count(10);
  *state.add_allocations() = *a;  // "a" twice
  v1::IdAllocation* b = state.add_allocations();
  b->set_container("b");
  *b->add_mappings() = *m;  // overlaps a
  state.add_allocations();  // no container
  EXPECT_EQ(Message(pool->Restore(state)),
            "pool: the state is of pool \"gid\", not \"uid\"; "
            "allocations[1].container: \"a\" appears twice; "
            "allocations[2].mappings[0]: host range 200000-200009 overlaps container \"a\" "
            "(200000-200009); "
            "allocations[3].container: required");
  EXPECT_TRUE(pool->Find("keep").has_value());
  EXPECT_FALSE(pool->Find("a").has_value());

  // A range outside the pool comes back only if it was reserved as such.
  state.Clear();
  state.set_pool("uid");
  a = state.add_allocations();
  a->set_container("host");
  m = a->add_mappings();
  m->set_host_start(5000000);
  m->set_count(10);
  EXPECT_THAT(Message(pool->Restore(state)), HasSubstr("is not inside the uid pool"));
  a->set_outside_pool_allowed(true);
  ASSERT_TRUE(pool->Restore(state).ok());
  EXPECT_FALSE(pool->Find("keep").has_value()) << "Restore replaces every allocation";
  EXPECT_TRUE(pool->Find("host").has_value());
}

// --- Concurrency ---------------------------------------------------------------------

// Every live host range of `state`, with its container.
std::vector<std::pair<std::string, IdRange>> LiveRanges(const v1::IdRangesState& state) {
  std::vector<std::pair<std::string, IdRange>> out;
  for (const v1::IdAllocation& a : state.allocations()) {
    for (const v1::IdAllocationMapping& m : a.mappings()) {
      out.emplace_back(a.container(), IdRange{m.host_start(), m.count()});
    }
  }
  return out;
}

// "" when no two ranges overlap and none holds a forbidden id; otherwise what is wrong.
std::string Problems(const v1::IdRangesState& state) {
  const std::vector<std::pair<std::string, IdRange>> live = LiveRanges(state);
  std::string out;
  for (size_t i = 0; i < live.size(); ++i) {
    for (uint32_t id : {0u, 998u, 65534u, 100005u}) {
      if (live[i].second.Contains(id)) absl::StrAppend(&out, live[i].first, " holds ", id, "; ");
    }
    for (size_t j = i + 1; j < live.size(); ++j) {
      if (live[i].second.Overlaps(live[j].second)) {
        absl::StrAppend(&out, live[i].first, " ", live[i].second.ToString(), " overlaps ",
                        live[j].first, " ", live[j].second.ToString(), "; ");
      }
    }
  }
  return out;
}

TEST(IdRangePoolConcurrency, ConcurrentCreatesNeverOverlap) {
  // 16 ranges of 65536 minus those around svcd's 100005, for 24 container ids: the pool
  // fills, and creates race with deletes and with each other.
  auto pool = Pool("containerd:100000:1048576\n");
  ASSERT_NE(pool, nullptr);
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 50;
  absl::Notification done;
  std::vector<std::string> checker_problems;
  std::thread checker([&] {
    while (!done.HasBeenNotified()) {
      std::string p = Problems(pool->Snapshot());
      if (!p.empty()) checker_problems.push_back(p);
    }
  });
  std::vector<std::thread> workers;
  std::vector<int> created(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&pool, &created, t] {
      absl::BitGen gen;
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string id = absl::StrCat("c", absl::Uniform(gen, 0, 24));
        switch (absl::Uniform(gen, 0, 3)) {
          case 0:
            if (pool->Allocate(id).ok()) ++created[t];
            break;
          case 1: {
            const uint32_t start = absl::Uniform<uint32_t>(gen, 100000, 1148576);
            const uint32_t count = absl::Uniform<uint32_t>(gen, 1, 70000);
            if (pool->Reserve(id, {{0, start, count}}).ok()) ++created[t];
            break;
          }
          default:
            pool->Release(id).IgnoreError();
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  done.Notify();
  checker.join();

  EXPECT_THAT(checker_problems, ::testing::IsEmpty());
  const v1::IdRangesState final_state = pool->Snapshot();
  EXPECT_EQ(Problems(final_state), "");
  for (const auto& [container, range] : LiveRanges(final_state)) {
    EXPECT_GE(range.start, 100000u) << container;
    EXPECT_LE(range.end(), 100000u + 1048576u) << container;
  }
  int total = 0;
  for (int n : created) total += n;
  EXPECT_GT(total, 0);
}

}  // namespace
}  // namespace secureos::ctr
