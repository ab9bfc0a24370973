// The dependency graph of service definitions: `requires` (start together, fail together)
// and `after` (ordering only). Both kinds of edge order a start, so a cycle through either
// could never start and is refused.
#ifndef SECUREOS_SVCD_DEPENDENCY_GRAPH_H_
#define SECUREOS_SVCD_DEPENDENCY_GRAPH_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace secureos::svcd {

struct DependencyEdges {
  std::vector<std::string> requires_;
  std::vector<std::string> after;
};

using DependencyGraph = std::map<std::string, DependencyEdges>;

// A cycle through requires/after edges, as the names along it with the first repeated at the
// end ("a", "b", "a"); nullopt when there is none. Edges to unknown names are ignored (they
// fail at start instead). Deterministic: the cycle found from the smallest name.
std::optional<std::vector<std::string>> FindCycle(const DependencyGraph& graph);

// `name` and everything it requires, transitively: the services a start of `name` starts.
// NOT_FOUND naming the chain ("requires: a -> b -> missing: no such service") when a required
// service does not exist.
absl::StatusOr<std::set<std::string>> RequiredClosure(const DependencyGraph& graph,
                                                      const std::string& name);

// Every service that requires `name`, transitively: what a stop of `name` stops first.
std::set<std::string> RequiredBy(const DependencyGraph& graph, const std::string& name);

}  // namespace secureos::svcd

#endif  // SECUREOS_SVCD_DEPENDENCY_GRAPH_H_
