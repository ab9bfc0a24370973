#include "svcd/dependency_graph.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::svcd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

DependencyGraph Graph() {
  DependencyGraph g;
  g["web"] = {{"db", "cache"}, {"log"}};
  g["db"] = {{"disk"}, {}};
  g["cache"] = {{}, {"db"}};
  g["disk"] = {};
  g["log"] = {};
  return g;
}

TEST(DependencyGraph, NoCycleInADag) { EXPECT_EQ(FindCycle(Graph()), std::nullopt); }

TEST(DependencyGraph, CycleThroughRequires) {
  DependencyGraph g = Graph();
  g["disk"].requires_ = {"web"};
  auto cycle = FindCycle(g);
  ASSERT_TRUE(cycle.has_value());
  EXPECT_EQ(cycle->front(), cycle->back());
  EXPECT_THAT(*cycle, ::testing::Contains("disk"));
  EXPECT_THAT(*cycle, ::testing::Contains("web"));
}

TEST(DependencyGraph, CycleThroughAfterAndSelfLoop) {
  DependencyGraph g;
  g["a"] = {{}, {"b"}};
  g["b"] = {{"a"}, {}};
  EXPECT_THAT(FindCycle(g).value(), ElementsAre("a", "b", "a"));
  DependencyGraph self;
  self["x"] = {{"x"}, {}};
  EXPECT_THAT(FindCycle(self).value(), ElementsAre("x", "x"));
}

TEST(DependencyGraph, UnknownEdgesAreNotCycles) {
  DependencyGraph g;
  g["a"] = {{"ghost"}, {"ghost2"}};
  EXPECT_EQ(FindCycle(g), std::nullopt);
}

TEST(DependencyGraph, RequiredClosureFollowsRequiresOnly) {
  auto c = RequiredClosure(Graph(), "web");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(*c, UnorderedElementsAre("web", "db", "cache", "disk"));  // Not "log" (after).
}

TEST(DependencyGraph, RequiredClosureNamesTheChainToAMissingService) {
  DependencyGraph g = Graph();
  g["disk"].requires_ = {"raid"};
  auto c = RequiredClosure(g, "web");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("web -> db -> disk -> raid: no such service"));
  EXPECT_EQ(RequiredClosure(g, "nope").status().message(), "nope: no such service");
}

TEST(DependencyGraph, RequiredByIsTransitive) {
  EXPECT_THAT(RequiredBy(Graph(), "disk"), UnorderedElementsAre("db", "web"));
  EXPECT_THAT(RequiredBy(Graph(), "log"), ::testing::IsEmpty());  // after is not requires.
}

}  // namespace
}  // namespace secureos::svcd
