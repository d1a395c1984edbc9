// The order in which services start and stop, from their `requires`, `after` and `members`.
// Built from valid services only (service_dir.h removes invalid ones and cycles first), so
// every name it returns is a loadable service.
//
// Edges ("X starts after Y"):
//   X requires Y, X after Y            -> Y before X
//   group G, members [m1, m2, ..]      -> m1 before m2 before ...; every member before G
//                                         (G is ready when its members are); G's own
//                                         requires/after come before every member.
// Orders are deterministic: among services free to go, the alphabetically first goes first.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "init/config/service_spec.h"

namespace cairn::init {

class DependencyGraph {
 public:
  DependencyGraph() = default;
  // References to names not in `specs` are ignored (the loader already reported them).
  explicit DependencyGraph(const std::vector<ServiceSpec>& specs);

  // Every service, each after everything it must follow.
  std::vector<std::string> start_order() const;
  // start_order() reversed: dependents stop before what they depend on.
  std::vector<std::string> stop_order() const;

  // Services that must stop when `name` stops: those that `require` it, transitively, and
  // groups whose member it is (and their dependents). In stop order; `name` not included.
  std::vector<std::string> dependents(const std::string& name) const;
  // What must be started (and ready) before `name` can start: its `requires`, transitively,
  // and for a group its members. In start order; `name` not included.
  std::vector<std::string> dependencies(const std::string& name) const;
  // The group `name` is a member of, or "".
  std::string group_of(const std::string& name) const;

  // A cycle among the edges, as a path that returns to its start ("a", "b", "a"), or nullopt.
  std::optional<std::vector<std::string>> find_cycle() const;

  bool contains(const std::string& name) const { return nodes_.count(name) != 0; }

 private:
  struct Node {
    std::vector<std::string> before;  // must start before this one (edge sources)
    std::vector<std::string> hard;    // `requires` and, for groups, members
    std::string group;
  };
  std::map<std::string, Node> nodes_;
};

// "a -> b -> a"
std::string format_cycle(const std::vector<std::string>& cycle);

}  // namespace cairn::init
