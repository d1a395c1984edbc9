#include "init/config/dependency_graph.h"

#include <algorithm>
#include <queue>
#include <set>

namespace cairn::init {
namespace {

void add_unique(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

}  // namespace

DependencyGraph::DependencyGraph(const std::vector<ServiceSpec>& specs) {
  for (const auto& spec : specs) nodes_[spec.name];
  auto known = [&](const std::string& name) { return nodes_.count(name) != 0; };
  for (const auto& spec : specs) {
    Node& node = nodes_[spec.name];
    for (const auto& dep : spec.required) {
      if (!known(dep)) continue;
      add_unique(node.before, dep);
      add_unique(node.hard, dep);
    }
    for (const auto& dep : spec.after) {
      if (known(dep)) add_unique(node.before, dep);
    }
    std::string previous;
    for (const auto& member : spec.members) {
      if (!known(member)) continue;
      Node& m = nodes_[member];
      if (m.group.empty()) m.group = spec.name;
      if (!previous.empty()) add_unique(m.before, previous);
      for (const auto& dep : spec.required) {
        if (known(dep)) add_unique(m.before, dep);
      }
      for (const auto& dep : spec.after) {
        if (known(dep)) add_unique(m.before, dep);
      }
      add_unique(node.before, member);
      add_unique(node.hard, member);
      previous = member;
    }
  }
  for (auto& [name, node] : nodes_) std::sort(node.before.begin(), node.before.end());
}

std::vector<std::string> DependencyGraph::start_order() const {
  // Kahn's algorithm with a name-ordered ready set; nodes left over sit on a cycle and are
  // appended in name order so the result still names every service.
  std::map<std::string, size_t> waiting;
  std::map<std::string, std::vector<std::string>> after;  // Y -> services that follow Y
  for (const auto& [name, node] : nodes_) {
    waiting[name] = node.before.size();
    for (const auto& dep : node.before) after[dep].push_back(name);
  }
  std::priority_queue<std::string, std::vector<std::string>, std::greater<>> ready;
  for (const auto& [name, count] : waiting) {
    if (count == 0) ready.push(name);
  }
  std::vector<std::string> order;
  std::set<std::string> done;
  while (!ready.empty()) {
    std::string name = ready.top();
    ready.pop();
    order.push_back(name);
    done.insert(name);
    for (const auto& next : after[name]) {
      if (--waiting[next] == 0) ready.push(next);
    }
  }
  for (const auto& [name, node] : nodes_) {
    if (!done.count(name)) order.push_back(name);
  }
  return order;
}

std::vector<std::string> DependencyGraph::stop_order() const {
  auto order = start_order();
  std::reverse(order.begin(), order.end());
  return order;
}

std::vector<std::string> DependencyGraph::dependents(const std::string& name) const {
  std::set<std::string> found;
  std::vector<std::string> stack{name};
  while (!stack.empty()) {
    std::string current = stack.back();
    stack.pop_back();
    for (const auto& [other, node] : nodes_) {
      if (found.count(other) || other == name) continue;
      if (std::find(node.hard.begin(), node.hard.end(), current) != node.hard.end()) {
        found.insert(other);
        stack.push_back(other);
      }
    }
  }
  std::vector<std::string> result;
  for (const auto& s : stop_order()) {
    if (found.count(s)) result.push_back(s);
  }
  return result;
}

std::vector<std::string> DependencyGraph::dependencies(const std::string& name) const {
  std::set<std::string> found;
  std::vector<std::string> stack{name};
  while (!stack.empty()) {
    std::string current = stack.back();
    stack.pop_back();
    auto it = nodes_.find(current);
    if (it == nodes_.end()) continue;
    for (const auto& dep : it->second.hard) {
      if (dep != name && found.insert(dep).second) stack.push_back(dep);
    }
  }
  std::vector<std::string> result;
  for (const auto& s : start_order()) {
    if (found.count(s)) result.push_back(s);
  }
  return result;
}

std::string DependencyGraph::group_of(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? "" : it->second.group;
}

std::optional<std::vector<std::string>> DependencyGraph::find_cycle() const {
  // Iterative DFS in name order; a back edge to a node on the current path closes a cycle.
  // The path is reported in dependency direction: "a -> b" means a waits for b.
  enum Color { White, Grey, Black };
  std::map<std::string, Color> color;
  for (const auto& [name, node] : nodes_) color[name] = White;
  for (const auto& [root, root_node] : nodes_) {
    if (color[root] != White) continue;
    std::vector<std::pair<std::string, size_t>> path{{root, 0}};
    color[root] = Grey;
    while (!path.empty()) {
      auto& [current, index] = path.back();
      const auto& before = nodes_.at(current).before;
      if (index == before.size()) {
        color[current] = Black;
        path.pop_back();
        continue;
      }
      std::string next = before[index++];
      if (color[next] == Grey) {
        std::vector<std::string> cycle;
        size_t start = 0;
        while (path[start].first != next) ++start;
        for (size_t i = start; i < path.size(); ++i) cycle.push_back(path[i].first);
        cycle.push_back(next);
        return cycle;
      }
      if (color[next] == White) {
        color[next] = Grey;
        path.emplace_back(next, 0);
      }
    }
  }
  return std::nullopt;
}

std::string format_cycle(const std::vector<std::string>& cycle) {
  std::string out;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (i) out += " -> ";
    out += cycle[i];
  }
  return out;
}

}  // namespace cairn::init
