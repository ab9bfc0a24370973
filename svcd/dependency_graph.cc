#include "svcd/dependency_graph.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace secureos::svcd {
namespace {

enum class Mark { kNone, kOnPath, kDone };

// Depth-first; `path` holds the names on the current path.
bool Visit(const DependencyGraph& graph, const std::string& name, std::map<std::string, Mark>& marks,
           std::vector<std::string>& path, std::vector<std::string>* cycle) {
  marks[name] = Mark::kOnPath;
  path.push_back(name);
  const DependencyEdges& e = graph.at(name);
  std::set<std::string> next(e.requires_.begin(), e.requires_.end());
  next.insert(e.after.begin(), e.after.end());
  for (const std::string& n : next) {
    if (graph.count(n) == 0) continue;
    if (marks[n] == Mark::kOnPath) {
      auto from = std::find(path.begin(), path.end(), n);
      cycle->assign(from, path.end());
      cycle->push_back(n);
      return true;
    }
    if (marks[n] == Mark::kNone && Visit(graph, n, marks, path, cycle)) return true;
  }
  path.pop_back();
  marks[name] = Mark::kDone;
  return false;
}

}  // namespace

std::optional<std::vector<std::string>> FindCycle(const DependencyGraph& graph) {
  std::map<std::string, Mark> marks;
  for (const auto& [name, edges] : graph) {
    if (marks[name] != Mark::kNone) continue;
    std::vector<std::string> path, cycle;
    if (Visit(graph, name, marks, path, &cycle)) return cycle;
  }
  return std::nullopt;
}

absl::StatusOr<std::set<std::string>> RequiredClosure(const DependencyGraph& graph,
                                                      const std::string& name) {
  std::set<std::string> out;
  // (service, chain that led to it)
  std::vector<std::pair<std::string, std::vector<std::string>>> todo = {{name, {}}};
  while (!todo.empty()) {
    auto [n, chain] = std::move(todo.back());
    todo.pop_back();
    chain.push_back(n);
    auto it = graph.find(n);
    if (it == graph.end()) {
      return absl::NotFoundError(absl::StrCat(
          chain.size() == 1 ? "" : "requires: ", absl::StrJoin(chain, " -> "), ": no such service"));
    }
    if (!out.insert(n).second) continue;
    for (const std::string& r : it->second.requires_) todo.push_back({r, chain});
  }
  return out;
}

std::set<std::string> RequiredBy(const DependencyGraph& graph, const std::string& name) {
  std::set<std::string> out;
  std::vector<std::string> todo = {name};
  while (!todo.empty()) {
    const std::string n = todo.back();
    todo.pop_back();
    for (const auto& [other, edges] : graph) {
      for (const std::string& r : edges.requires_) {
        if (r == n && out.insert(other).second) todo.push_back(other);
      }
    }
  }
  out.erase(name);
  return out;
}

}  // namespace secureos::svcd
